import type { StageErrorKind } from './verdict.js';

/**
 * Every error MEF throws or records carries a stable `code`. Codes are never reused;
 * `docs/reference/errors.md` lists each one and a test keeps the two in step.
 */

/** Options accepted by every MEF error. */
export interface MefErrorOptions {
  /** The underlying error, kept for logs and debuggers. */
  cause?: unknown;
  /**
   * How a stage failed, when this error is recorded with `findings.error(err)`: `timeout`,
   * `unavailable`, `protocol`, `limit` or `exception` (the default).
   */
  kind?: StageErrorKind;
}

/** Base class of every error in MEF; `code` is stable and documented. */
export class MefError extends Error {
  /** Stable machine-readable code such as `MEF_CORE_TIMEOUT`. */
  readonly code: string;
  /** How a stage failed, when a stage records this error (see {@link MefErrorOptions.kind}). */
  readonly kind: StageErrorKind;

  constructor(code: string, message: string, options: MefErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MefError';
    this.code = code;
    this.kind = options.kind ?? 'exception';
  }
}

/**
 * The constructor {@link mefErrorClass} returns: `new XError(code, message, options)` builds a
 * {@link MefError} whose `code` is one of the package's codes, with the extra `fields` given in
 * `options` copied onto it.
 */
export interface MefErrorClass<Code extends string, Fields extends object = object> {
  /** Builds the error: one of the package's codes, a message, and its options (`cause`, `kind`, the fields). */
  new (code: Code, message: string, options?: MefErrorOptions & Partial<Fields>): MefErrorOf<Code, Fields>;
  /** Typed as an instance, so that `err instanceof XError` narrows `err.code` to the codes. */
  readonly prototype: MefErrorOf<Code, Fields>;
}

/** An error made by a {@link MefErrorClass}: a {@link MefError} with a typed `code` and extra fields. */
export type MefErrorOf<Code extends string, Fields extends object = object> = MefError & {
  readonly code: Code;
} & Readonly<Partial<Fields>>;

/**
 * Makes a package's error class: a subclass of {@link MefError} named `name`, whose code is
 * typed as one of the package's codes. Every package declares its error this way, so each has
 * the same shape and `instanceof` works for the package's class and for `MefError`.
 *
 * ```ts
 * export const rblErrorCodes = { MEF_RBL_TIMEOUT: 'A query got no answer in time.' } as const;
 * export const RblError = mefErrorClass<keyof typeof rblErrorCodes, { zone: string }>('RblError', ['zone']);
 * export type RblError = InstanceType<typeof RblError>;
 * throw new RblError('MEF_RBL_TIMEOUT', 'no answer', { kind: 'timeout', zone: 'zen.example' });
 * ```
 *
 * @param name - the class name, shown as `err.name` and in stack traces.
 * @param fields - the names of extra options kept on the error (such as a DNS list's `zone`).
 */
export function mefErrorClass<Code extends string, Fields extends object = object>(
  name: string,
  fields: readonly (keyof Fields & string)[] = [],
): MefErrorClass<Code, Fields> {
  const named = {
    [name]: class extends MefError {
      constructor(code: Code, message: string, options: MefErrorOptions & Partial<Fields> = {}) {
        super(code, message, options);
        this.name = name;
        for (const field of fields) {
          Object.defineProperty(this, field, {
            value: (options as Record<string, unknown>)[field],
            enumerable: true,
          });
        }
      }
    },
  };
  return named[name] as unknown as MefErrorClass<Code, Fields>;
}

/**
 * The codes the core defines, with a one-line meaning each. Plugins define their own
 * (`MEF_AV_*`, `MEF_SPAM_*`, `MEF_RBL_*`) in the same shape.
 */
export const coreErrorCodes = {
  MEF_CORE_INVALID_OPTION: 'An option passed to a core factory or method has the wrong type or value.',
  MEF_CORE_PLUGIN_INVALID:
    'A value given to `use()` is not a plugin: it lacks a name or a hook has the wrong type.',
  MEF_CORE_PLUGIN_DUPLICATE: 'Two plugins with the same name were registered on one engine.',
  MEF_CORE_PLUGIN_VERSION: "A plugin's core version range does not include this core's version.",
  MEF_CORE_PLUGIN_DEPENDENCY: 'A plugin depends on another plugin that is not registered before it.',
  MEF_CORE_FROZEN: 'The engine was changed after its first use; register every plugin before starting.',
  MEF_CORE_NOT_STARTED: 'A transaction was opened on an engine that is stopped.',
  MEF_CORE_TIMEOUT: 'A stage did not finish within its timeout.',
  MEF_CORE_STAGE_FAILED: 'A stage threw or returned a rejected promise.',
  MEF_CORE_VIEW_LATE: 'A stage asked for a message view after the message started to flow.',
  MEF_CORE_PHASE_ORDER: 'A transaction method was called out of SMTP order (for example data before RCPT).',
  MEF_CORE_SOURCE_ABORTED: 'The message source failed or was destroyed before the end of the message.',
  MEF_CORE_SETUP_FAILED: "A plugin's setup failed when the engine started.",
  MEF_CORE_OUTPUT_UNAVAILABLE:
    'The message output was requested but the transaction did not keep the message.',
} as const;

/** A code defined by the core. */
export type CoreErrorCode = keyof typeof coreErrorCodes;

/** Builds a `TypeError` for a bad option, naming the option and quoting the value. */
export function invalidOption(option: string, value: unknown, expected: string): TypeError {
  let shown: string;
  try {
    shown = typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);
  } catch {
    shown = String(value);
  }
  const err = new TypeError(`Invalid option ${option}: expected ${expected}, got ${shown}`) as TypeError & {
    code: string;
  };
  err.code = 'MEF_CORE_INVALID_OPTION';
  return err;
}
