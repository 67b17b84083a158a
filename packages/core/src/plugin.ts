import type { Readable } from 'node:stream';
import type { EnvelopeAddress, TransactionContext } from './context.js';
import type { MefError } from './errors.js';
import type { HeaderBlock } from './message/header-block.js';
import type { Disposition, ErrorPolicy, Reply, Scope, StageErrorKind, Verdict } from './verdict.js';

/** The phases a stage can act at, in lifecycle order. */
export type Phase = 'connect' | 'helo' | 'mailFrom' | 'rcptTo' | 'message' | 'scored' | 'close';

/** Options for recording a symbol. */
export interface SymbolOptions {
  group?: string;
  options?: readonly string[];
  description?: string;
}

/** Options for forcing a disposition. */
export interface ForceOptions {
  reply?: Reply | { code: number; enhanced: string; text: string | readonly string[] };
  /** Default: `recipient` in the RCPT phase, `connection` at connect and HELO, else `transaction`. */
  scope?: Scope;
  disconnect?: boolean;
  reason?: string;
}

/**
 * What a stage records while it runs: findings as data, never exceptions. A stage's
 * recorder is sealed when the stage finishes or times out, so a late answer is ignored
 * (it counts once).
 */
export interface Findings {
  /** Records a symbol with a score (0 when omitted). */
  symbol(name: string, score?: number, options?: SymbolOptions): void;
  /** Forces a disposition, independent of the score. */
  force(disposition: Disposition, options?: ForceOptions): void;
  /** Shorthand for `force('reject', ...)`. */
  reject(reply?: ForceOptions['reply'], options?: Omit<ForceOptions, 'reply'>): void;
  /** Shorthand for `force('tempfail', ...)`. */
  tempfail(reply?: ForceOptions['reply'], options?: Omit<ForceOptions, 'reply'>): void;
  /** Appends a header field at the end of the header block when the mail is handed on. */
  addHeader(name: string, value: string): void;
  /** Inserts a header field at the top of the header block (where trace fields go). */
  prependHeader(name: string, value: string): void;
  /** Replaces a header field (every occurrence, or the 1-based `index`). */
  setHeader(name: string, value: string, index?: number): void;
  /** Removes a header field (every occurrence, or the 1-based `index`). */
  removeHeader(name: string, index?: number): void;
  /** Prefixes the Subject, once, such as `[SPAM]`. */
  prefixSubject(prefix: string): void;
  /**
   * Records a failure of this stage; the stage's `onError` policy turns it into a
   * disposition. Use it for a scanner that is down or speaks garbage. Pass the `MefError`
   * (its `code`, `message` and `kind` are recorded; `kind` overrides the error's own), or a
   * kind, a code and a message.
   */
  error(err: MefError, kind?: StageErrorKind): void;
  error(kind: StageErrorKind, code: string, message: string): void;
  /** Skips a later stage for this transaction (an allowlist hit). */
  skip(stage: string, reason: string): void;
}

/** Everything a stage's envelope hook receives. */
export interface StageContext {
  readonly tx: TransactionContext;
  /** Mutable typed shared state (the same object as `tx.state`). */
  readonly state: TransactionContext['state'];
  readonly findings: Findings;
  /** Aborted when the stage times out or the transaction ends; pass it to I/O. */
  readonly signal: AbortSignal;
  /** Log sink of the engine (pino-compatible `info`/`warn`/`debug`). */
  readonly log: Logger;
}

/** Context of the RCPT hook: the recipient being checked. */
export interface RcptContext extends StageContext {
  readonly recipient: EnvelopeAddress;
}

/** Which MIME parts a stage wants, and how much of each. */
export interface PartSelector {
  /** Match content types: exact (`text/html`), a wildcard (`image/*`), or a RegExp. */
  contentType?: string | RegExp | readonly (string | RegExp)[];
  /** Match file names. */
  filename?: RegExp;
  /** Only attachments (parts with a file name or `Content-Disposition: attachment`). */
  attachment?: boolean;
  /** Stop feeding a part after this many decoded bytes; the part is marked truncated. */
  maxBytes?: number;
}

/** A MIME leaf part as a stage sees it. */
export interface MimePart {
  /** IMAP-style part number, such as `1.2`. */
  readonly partId: string;
  /** Nesting depth, 0 for the root node. */
  readonly depth: number;
  readonly contentType: string;
  readonly charset: string | undefined;
  readonly filename: string | undefined;
  readonly disposition: string | undefined;
  readonly transferEncoding: string | undefined;
  /** The part's header block (read only). */
  readonly headers: HeaderBlock;
  /**
   * The decoded content. Read it to the end (or call `skip()`): the one pass waits for
   * it, which is how a slow stage slows the pass instead of making the engine buffer.
   */
  readonly content: Readable;
  /** Stops reading this part; the pass goes on without it. */
  skip(): void;
  /** Decoded bytes seen so far; after `content` ends, the part's decoded size. */
  readonly bytes: number;
  /** True after the end when `maxBytes` cut the part short. */
  readonly truncated: boolean;
}

/** Text extracted from the text parts, bounded by the engine's `maxTextBytes`. */
export interface ExtractedText {
  /** Plain text of all text/plain parts, and of HTML parts rendered to text. */
  readonly text: string;
  /** Raw HTML of text/html parts (bounded the same way). */
  readonly html: string;
  /** Subject, decoded. */
  readonly subject: string;
  /** True when a limit cut the text. */
  readonly truncated: boolean;
}

/**
 * The views of the message a stage asks for. Ask in the `message` hook before its first
 * `await`: the pass starts when every message hook has asked, and a view asked for later
 * is an error (`MEF_CORE_VIEW_LATE`). A part no stage asked for is never decoded.
 */
export interface MessageView {
  /** The root header block, once parsed. */
  headers(): Promise<HeaderBlock>;
  /** Calls `handler` for each leaf part that matches, in message order, with backpressure. */
  parts(selector: PartSelector, handler: (part: MimePart) => void | Promise<void>): void;
  /** The raw bytes as they arrive, exactly as received. Read it to the end. */
  raw(): Readable;
  /** Bounded extracted text, resolved at the end of the message. */
  text(): Promise<ExtractedText>;
  /** Bytes seen so far; the total size once the message has ended. */
  readonly size: number;
  /**
   * Resolves at the end of the message, once every part handler this stage registered has
   * settled, with the total size. Await it to decide over what the handlers gathered.
   */
  ended(): Promise<{ size: number }>;
}

/**
 * Context of the `scored` hook: the verdict the message's findings gave, before the host
 * applies it. A stage that acts on the score (greylisting) records here; the verdict is then
 * decided again with what it recorded.
 */
export interface ScoredContext extends StageContext {
  readonly verdict: Verdict;
}

/** Context of the message hook. */
export interface MessageContext extends StageContext {
  readonly message: MessageView;
}

/** Minimal logger shape (pino's API subset). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What setup receives. */
export interface SetupContext {
  readonly log: Logger;
  /** Version of the core. */
  readonly coreVersion: string;
}

/** A health probe's answer. */
export interface HealthResult {
  readonly ok: boolean;
  readonly detail?: string;
}

/** Async or sync. */
export type Awaitable<T> = T | Promise<T>;

/**
 * A plugin: the value a plugin factory returns (`clamav(options)`). Every hook is
 * optional; a plugin acts only at the phases it names. Registered on an engine, a plugin is
 * one *stage* of its run order: the word the verdict uses (`SymbolHit.stage`,
 * `StageError.stage` hold the plugin's name) and the contexts its hooks receive.
 */
export interface Plugin {
  /** Unique name, kebab-case, such as `clamav` or `rbl`. */
  readonly name: string;
  /** Semver range of the core this plugin works with, such as `^0.1.0`. */
  readonly core?: string;
  /** Names of plugins that must be registered before this one. */
  readonly dependencies?: readonly string[];
  /** Lower runs first; ties keep registration order. Default 100. */
  readonly priority?: number;
  /**
   * This plugin's time limit in milliseconds (default: the engine's `stageTimeout`). One
   * number bounds each hook, the message work left after the last byte, a stall of the pass
   * by this plugin's reader, and the health probe.
   */
  readonly stageTimeout?: number;
  /** What a failure of this stage turns into (default: engine's `onError`). */
  readonly onError?: ErrorPolicy;

  setup?(ctx: SetupContext): Awaitable<void>;
  teardown?(): Awaitable<void>;
  health?(): Awaitable<HealthResult>;

  connect?(ctx: StageContext): Awaitable<void>;
  helo?(ctx: StageContext): Awaitable<void>;
  mailFrom?(ctx: StageContext): Awaitable<void>;
  rcptTo?(ctx: RcptContext): Awaitable<void>;
  message?(ctx: MessageContext): Awaitable<void>;
  /**
   * Runs after every message stage has finished and the findings were scored, with that
   * verdict; not run when the message source failed.
   */
  scored?(ctx: ScoredContext): Awaitable<void>;
  close?(ctx: StageContext): Awaitable<void>;
}

/** Identity helper that gives a plugin literal its type. */
export function definePlugin<P extends Plugin>(plugin: P): P {
  return plugin;
}
