/**
 * The parts of Haraka's API this plugin uses, typed here so that Haraka stays out of the
 * plugin's dependencies (Haraka loads the plugin; the plugin never loads Haraka).
 */
import type { Writable } from 'node:stream';

/** A hook's callback: `next()` continues, `next(code, msg)` answers. */
export type HarakaNext = (code?: number, msg?: string) => void;

/** An envelope address (`address-rfc2821`: a method in older releases, a property in newer). */
export interface HarakaAddress {
  readonly address?: string | null | (() => string | null);
  readonly user?: string | null;
  readonly host?: string | null;
}

export interface HarakaResults {
  add(plugin: object, result: Record<string, unknown>): void;
}

export interface HarakaMessageStream {
  pipe(destination: Writable, options?: { line_endings?: string; dot_stuffed?: boolean }): unknown;
}

export interface HarakaTransaction {
  readonly uuid: string;
  /** The sender and the recipients Haraka accepted, once given. */
  readonly mail_from?: HarakaAddress | null;
  readonly rcpt_to?: readonly HarakaAddress[];
  readonly notes: Record<string, unknown>;
  readonly results: HarakaResults;
  readonly message_stream: HarakaMessageStream;
  readonly header: { get(name: string): string };
  add_header(name: string, value: string): void;
  add_leading_header(name: string, value: string): void;
  remove_header(name: string): void;
}

export interface HarakaConnection {
  readonly uuid: string;
  readonly remote: { readonly ip: string; readonly port?: number; readonly host?: string | null };
  readonly local?: { readonly ip?: string; readonly port?: number };
  readonly hello?: { readonly host?: string | null };
  readonly notes: Record<string, unknown>;
  readonly results: HarakaResults;
  readonly transaction: HarakaTransaction | null;
  readonly relaying?: boolean;
}

/** The plugin object Haraka calls hooks on (`this`). */
export interface HarakaPlugin {
  readonly name: string;
  readonly config: { get(name: string, type?: string): unknown };
  /** Runs the plugin's method `method` at Haraka's hook `hook`. */
  register_hook(hook: string, method: string): void;
  loginfo(msg: string, ...rest: unknown[]): void;
  logerror(msg: string, ...rest: unknown[]): void;
}
