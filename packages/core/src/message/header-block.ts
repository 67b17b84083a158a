import libmime from 'libmime';

/** One header field as received. */
export interface HeaderField {
  /** Field name as written. */
  readonly name: string;
  /** Lower-case name for lookups. */
  readonly key: string;
  /** Value with folding removed and surrounding space trimmed (still MIME-encoded). */
  readonly value: string;
  /** The whole field as received, folded lines included, without the final line break. */
  readonly raw: string;
}

/**
 * A parsed header block. Read only: header changes go through `findings` so that they
 * are ordered and applied only when the mail is handed on.
 */
export class HeaderBlock {
  readonly fields: readonly HeaderField[];
  /** Size of the block in bytes as received (without the empty separator line). */
  readonly size: number;

  constructor(fields: readonly HeaderField[], size: number) {
    this.fields = fields;
    this.size = size;
  }

  /** Parses header bytes (lines ending in CRLF, LF or CR). */
  static parse(input: Buffer | string): HeaderBlock {
    const text = typeof input === 'string' ? input : input.toString('latin1');
    const size = typeof input === 'string' ? Buffer.byteLength(input, 'latin1') : input.length;
    const lines = text.split(/\r\n|\n|\r/);
    const fields: HeaderField[] = [];
    let current: string[] = [];
    const flush = () => {
      if (!current.length) return;
      const raw = current.join('\r\n');
      current = [];
      const colon = raw.indexOf(':');
      if (colon <= 0) return; // not a field: a broken line, ignored but counted in size
      const name = raw.slice(0, colon).trim();
      if (!name || /\s/.test(name)) return;
      const value = raw
        .slice(colon + 1)
        .replace(/\r\n[ \t]+/g, ' ')
        .trim();
      fields.push({ name, key: name.toLowerCase(), value, raw });
    };
    for (const line of lines) {
      if (line === '') {
        flush();
        continue;
      }
      if ((line[0] === ' ' || line[0] === '\t') && current.length) current.push(line);
      else {
        flush();
        current.push(line);
      }
    }
    flush();
    return new HeaderBlock(fields, size);
  }

  /** True when a field with this name exists. */
  has(name: string): boolean {
    const key = name.toLowerCase();
    return this.fields.some((f) => f.key === key);
  }

  /** Values of every field with this name, in order. */
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    return this.fields.filter((f) => f.key === key).map((f) => f.value);
  }

  /** Value of the first field with this name, or undefined. */
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    return this.fields.find((f) => f.key === key)?.value;
  }

  /** Value of the first field with this name with RFC 2047 words decoded. */
  getDecoded(name: string): string | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    try {
      return libmime.decodeWords(v);
    } catch {
      return v;
    }
  }

  /** Number of fields. */
  get length(): number {
    return this.fields.length;
  }
}
