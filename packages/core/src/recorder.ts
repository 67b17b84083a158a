import { MefError } from './errors.js';
import type { Findings, ForceOptions, SymbolOptions } from './plugin.js';
import type {
  Disposition,
  ErrorPolicy,
  ForcedDisposition,
  HeaderMutation,
  Reply,
  Scope,
  StageError,
  StageErrorKind,
  SymbolHit,
} from './verdict.js';

/** Findings collected for one phase or one transaction. */
export interface FindingSet {
  symbols: SymbolHit[];
  forced: ForcedDisposition[];
  errors: StageError[];
  mutations: HeaderMutation[];
}

/** Findings as a host reads them from a connection or a transaction: a read-only view. */
export interface RecordedFindings {
  readonly symbols: readonly SymbolHit[];
  readonly forced: readonly ForcedDisposition[];
  readonly errors: readonly StageError[];
  readonly mutations: readonly HeaderMutation[];
}

export function emptyFindings(): FindingSet {
  return { symbols: [], forced: [], errors: [], mutations: [] };
}

/** Adds every finding of `from` to `into`, in order. */
export function mergeFindings(into: FindingSet, from: RecordedFindings): void {
  into.symbols.push(...from.symbols);
  into.forced.push(...from.forced);
  into.errors.push(...from.errors);
  into.mutations.push(...from.mutations);
}

const SYMBOL_RE = /^[A-Z][A-Z0-9_]*$/;
const HEADER_NAME_RE = /^[\x21-\x39\x3b-\x7e]+$/;

function toReply(r: NonNullable<ForceOptions['reply']>): Reply {
  if ('lines' in r) return { code: r.code, enhanced: r.enhanced, lines: [...r.lines] };
  const text = r.text;
  return {
    code: r.code,
    enhanced: r.enhanced,
    lines: typeof text === 'string' ? text.split(/\r?\n/) : [...text],
  };
}

/** Where a recorder writes, and what it does with a late finding. */
export interface RecorderTarget {
  readonly stage: string;
  readonly into: FindingSet;
  readonly policy: ErrorPolicy;
  readonly scope: Scope;
  readonly skipInto: Map<string, string>;
  readonly recipient?: string;
  /** Told of every finding recorded after the seal (the engine logs and counts it). */
  readonly onLate?: (stage: string, finding: string) => void;
}

/**
 * A stage's findings recorder. It is sealed when the stage finishes or times out: after
 * that, anything it records is dropped, so a late answer never counts; but it is never
 * silent: `onLate` hears of it.
 */
export class Recorder implements Findings {
  #sealed = false;
  readonly #t: RecorderTarget;

  constructor(target: RecorderTarget) {
    this.#t = target;
  }

  seal(): void {
    this.#sealed = true;
  }

  #open(finding: string): boolean {
    if (this.#sealed) this.#t.onLate?.(this.#t.stage, finding);
    return !this.#sealed;
  }

  symbol(name: string, score = 0, options: SymbolOptions = {}): void {
    if (typeof name !== 'string' || !SYMBOL_RE.test(name)) {
      throw new TypeError(`Invalid symbol name ${JSON.stringify(name)}: expected UPPER_SNAKE`);
    }
    if (typeof score !== 'number' || !Number.isFinite(score)) {
      throw new TypeError(`Invalid score for ${name}: expected a finite number, got ${String(score)}`);
    }
    if (!this.#open(`symbol ${name}`)) return;
    const hit: { -readonly [K in keyof SymbolHit]: SymbolHit[K] } = { name, score, stage: this.#t.stage };
    if (options.group !== undefined) hit.group = options.group;
    if (options.options !== undefined) hit.options = [...options.options];
    if (options.description !== undefined) hit.description = options.description;
    this.#t.into.symbols.push(hit);
  }

  force(disposition: Disposition, options: ForceOptions = {}): void {
    if (!['accept', 'tempfail', 'reject', 'discard', 'quarantine'].includes(disposition)) {
      throw new TypeError(`Invalid disposition ${JSON.stringify(disposition)}`);
    }
    if (!this.#open(`force ${disposition}`)) return;
    const scope = options.scope ?? this.#t.scope;
    const f: { -readonly [K in keyof ForcedDisposition]: ForcedDisposition[K] } = {
      stage: this.#t.stage,
      disposition,
      scope,
    };
    if (scope === 'recipient' && this.#t.recipient !== undefined) f.recipient = this.#t.recipient;
    if (options.reply !== undefined) f.reply = toReply(options.reply);
    if (options.disconnect !== undefined) f.disconnect = options.disconnect;
    f.reason = options.reason ?? (f.reply ? f.reply.lines.join(' ') : `${this.#t.stage} ${disposition}`);
    this.#t.into.forced.push(f);
  }

  reject(reply?: ForceOptions['reply'], options: Omit<ForceOptions, 'reply'> = {}): void {
    this.force('reject', reply === undefined ? options : { ...options, reply });
  }

  tempfail(reply?: ForceOptions['reply'], options: Omit<ForceOptions, 'reply'> = {}): void {
    this.force('tempfail', reply === undefined ? options : { ...options, reply });
  }

  private checkHeader(name: string, value?: string): void {
    if (typeof name !== 'string' || !HEADER_NAME_RE.test(name)) {
      throw new TypeError(`Invalid header name ${JSON.stringify(name)}`);
    }
    if (
      value !== undefined &&
      (typeof value !== 'string' || /[\r\n]/.test(value.replace(/\r?\n[ \t]/g, '')))
    ) {
      throw new TypeError(`Invalid header value for ${name}: line breaks must be followed by a space or tab`);
    }
  }

  addHeader(name: string, value: string): void {
    this.checkHeader(name, value);
    if (this.#open(`addHeader ${name}`))
      this.#t.into.mutations.push({ op: 'add', name, value, stage: this.#t.stage });
  }

  prependHeader(name: string, value: string): void {
    this.checkHeader(name, value);
    if (this.#open(`prependHeader ${name}`))
      this.#t.into.mutations.push({ op: 'prepend', name, value, stage: this.#t.stage });
  }

  setHeader(name: string, value: string, index?: number): void {
    this.checkHeader(name, value);
    if (this.#open(`setHeader ${name}`))
      this.#t.into.mutations.push(
        index === undefined
          ? { op: 'set', name, value, stage: this.#t.stage }
          : { op: 'set', name, value, index, stage: this.#t.stage },
      );
  }

  removeHeader(name: string, index?: number): void {
    this.checkHeader(name);
    if (this.#open(`removeHeader ${name}`))
      this.#t.into.mutations.push(
        index === undefined
          ? { op: 'remove', name, stage: this.#t.stage }
          : { op: 'remove', name, index, stage: this.#t.stage },
      );
  }

  prefixSubject(prefix: string): void {
    if (typeof prefix !== 'string' || /[\r\n]/.test(prefix)) {
      throw new TypeError(`Invalid subject prefix ${JSON.stringify(prefix)}`);
    }
    if (this.#open('prefixSubject'))
      this.#t.into.mutations.push({ op: 'subject', prefix, stage: this.#t.stage });
  }

  error(err: MefError, kind?: StageErrorKind): void;
  error(kind: StageErrorKind, code: string, message: string): void;
  error(first: MefError | StageErrorKind, second?: string, message?: string): void {
    let error: { kind: StageErrorKind; code: string; message: string };
    if (first instanceof MefError) {
      error = {
        kind: (second as StageErrorKind | undefined) ?? first.kind,
        code: first.code,
        message: first.message,
      };
    } else {
      error = { kind: first, code: String(second), message: String(message) };
    }
    if (!this.#open(`error ${error.code}`)) return;
    this.#t.into.errors.push({
      stage: this.#t.stage,
      ...error,
      policy: this.#t.policy,
      disposition: this.#t.policy,
    });
  }

  skip(stage: string, reason: string): void {
    if (!this.#open(`skip ${stage}`)) return;
    if (!this.#t.skipInto.has(stage)) this.#t.skipInto.set(stage, reason);
  }
}
