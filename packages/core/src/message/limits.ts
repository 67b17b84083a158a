/** The limits of one message. Hitting one records a symbol and the configured disposition. */
export interface Limits {
  /** Largest message in bytes. Default 64 MiB. */
  readonly maxMessageBytes: number;
  /** Largest header block of the message or of one MIME part. Default 256 KiB. */
  readonly maxHeaderBytes: number;
  /** Deepest MIME nesting offered to stages. Default 32. */
  readonly maxDepth: number;
  /** Most MIME nodes offered to stages. Default 2,000. */
  readonly maxParts: number;
  /** Most bytes of text extracted for the text view. Default 1 MiB. */
  readonly maxTextBytes: number;
}

/** The limits a message can hit; `parse` is a MIME structure the splitter could not read. */
export type LimitName = 'size' | 'header' | 'depth' | 'parts' | 'text' | 'parse';

export const defaultLimits: Limits = Object.freeze({
  maxMessageBytes: 64 * 1024 * 1024,
  maxHeaderBytes: 256 * 1024,
  maxDepth: 32,
  maxParts: 2000,
  maxTextBytes: 1024 * 1024,
});

/** Told of each limit the message hits, with a detail for the symbol. */
export type OnLimit = (name: LimitName, detail: string) => void;
