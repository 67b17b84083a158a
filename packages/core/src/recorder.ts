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

export function emptyFindings(): FindingSet {
  return { symbols: [], forced: [], errors: [], mutations: [] };
}

export function policyDisposition(p: ErrorPolicy): Disposition {
  return p;
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

/**
 * A stage's findings recorder. It is sealed when the stage finishes or times out: after
 * that, anything it records is dropped, so a late answer never counts.
 */
export class Recorder implements Findings {
  private sealed = false;
  dropped = 0;

  constructor(
    private readonly stage: string,
    private readonly into: FindingSet,
    private readonly policy: ErrorPolicy,
    private readonly defaultScope: Scope,
    private readonly skipInto: Map<string, string>,
    private readonly recipient?: string,
  ) {}

  seal(): void {
    this.sealed = true;
  }

  get isSealed(): boolean {
    return this.sealed;
  }

  private open(): boolean {
    if (this.sealed) this.dropped++;
    return !this.sealed;
  }

  symbol(name: string, score = 0, options: SymbolOptions = {}): void {
    if (typeof name !== 'string' || !SYMBOL_RE.test(name)) {
      throw new TypeError(`Invalid symbol name ${JSON.stringify(name)}: expected UPPER_SNAKE`);
    }
    if (typeof score !== 'number' || !Number.isFinite(score)) {
      throw new TypeError(`Invalid score for ${name}: expected a finite number, got ${String(score)}`);
    }
    if (!this.open()) return;
    const hit: { -readonly [K in keyof SymbolHit]: SymbolHit[K] } = { name, score, stage: this.stage };
    if (options.group !== undefined) hit.group = options.group;
    if (options.options !== undefined) hit.options = [...options.options];
    if (options.description !== undefined) hit.description = options.description;
    this.into.symbols.push(hit);
  }

  force(disposition: Disposition, options: ForceOptions = {}): void {
    if (!['accept', 'tempfail', 'reject', 'discard', 'quarantine'].includes(disposition)) {
      throw new TypeError(`Invalid disposition ${JSON.stringify(disposition)}`);
    }
    if (!this.open()) return;
    const scope = options.scope ?? this.defaultScope;
    const f: { -readonly [K in keyof ForcedDisposition]: ForcedDisposition[K] } = {
      stage: this.stage,
      disposition,
      scope,
    };
    if (scope === 'recipient' && this.recipient !== undefined) f.recipient = this.recipient;
    if (options.reply !== undefined) f.reply = toReply(options.reply);
    if (options.disconnect !== undefined) f.disconnect = options.disconnect;
    f.reason = options.reason ?? (f.reply ? f.reply.lines.join(' ') : `${this.stage} ${disposition}`);
    this.into.forced.push(f);
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
    if (this.open()) this.into.mutations.push({ op: 'add', name, value, stage: this.stage });
  }

  prependHeader(name: string, value: string): void {
    this.checkHeader(name, value);
    if (this.open()) this.into.mutations.push({ op: 'prepend', name, value, stage: this.stage });
  }

  setHeader(name: string, value: string, index?: number): void {
    this.checkHeader(name, value);
    if (this.open())
      this.into.mutations.push(
        index === undefined
          ? { op: 'set', name, value, stage: this.stage }
          : { op: 'set', name, value, index, stage: this.stage },
      );
  }

  removeHeader(name: string, index?: number): void {
    this.checkHeader(name);
    if (this.open())
      this.into.mutations.push(
        index === undefined
          ? { op: 'remove', name, stage: this.stage }
          : { op: 'remove', name, index, stage: this.stage },
      );
  }

  prefixSubject(prefix: string): void {
    if (typeof prefix !== 'string' || /[\r\n]/.test(prefix)) {
      throw new TypeError(`Invalid subject prefix ${JSON.stringify(prefix)}`);
    }
    if (this.open()) this.into.mutations.push({ op: 'subject', prefix, stage: this.stage });
  }

  error(kind: StageErrorKind, code: string, message: string): void {
    if (!this.open()) return;
    this.into.errors.push({
      stage: this.stage,
      kind,
      code,
      message,
      policy: this.policy,
      disposition: policyDisposition(this.policy),
    });
  }

  skip(stage: string, reason: string): void {
    if (!this.open()) return;
    if (!this.skipInto.has(stage)) this.skipInto.set(stage, reason);
  }
}
