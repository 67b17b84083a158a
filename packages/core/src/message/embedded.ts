/**
 * Files carried inside a text body the way Usenet and old mailers carry them: uuencode
 * (`begin 644 name` ... `end`) and yEnc (`=ybegin ... name=x` ... `=yend`). A mail client
 * shows these as attachments, so they are read as attachments too.
 */

/** One file found inside a text body. */
export interface EmbeddedFile {
  readonly kind: 'uuencode' | 'yenc';
  readonly filename: string;
  readonly content: Buffer;
}

/** True when the bytes may hold a uuencode or yEnc block (a cheap test for the hot path). */
export function mayEmbed(data: Buffer): boolean {
  return data.indexOf('begin ') !== -1 || data.indexOf('=ybegin') !== -1;
}

function uudecodeLine(line: string, out: number[]): void {
  const n = (line.charCodeAt(0) - 32) & 0x3f;
  if (n === 0) return;
  const bytes: number[] = [];
  for (let i = 1; i < line.length && bytes.length < n; i += 4) {
    const c = [0, 1, 2, 3].map((k) => ((line.charCodeAt(i + k) || 32) - 32) & 0x3f) as [
      number,
      number,
      number,
      number,
    ];
    bytes.push(
      ((c[0] << 2) | (c[1] >> 4)) & 0xff,
      ((c[1] << 4) | (c[2] >> 2)) & 0xff,
      ((c[2] << 6) | c[3]) & 0xff,
    );
  }
  for (let i = 0; i < n && i < bytes.length; i++) out.push(bytes[i] as number);
}

function ydecode(lines: string[]): Buffer {
  const out: number[] = [];
  for (const line of lines) {
    for (let i = 0; i < line.length; i++) {
      let c = line.charCodeAt(i);
      if (c === 0x3d && i + 1 < line.length) {
        i++;
        c = (line.charCodeAt(i) - 64) & 0xff;
      }
      out.push((c - 42) & 0xff);
    }
  }
  return Buffer.from(out);
}

/**
 * The uuencode and yEnc files inside a text body, at most `maxFiles` of them and at most
 * `maxBytes` decoded in all.
 */
export function extractEmbedded(body: Buffer, maxFiles = 32, maxBytes = 32 * 1024 * 1024): EmbeddedFile[] {
  const files: EmbeddedFile[] = [];
  if (!mayEmbed(body)) return files;
  // latin1 keeps one character per byte: yEnc is 8-bit.
  const lines = body.toString('latin1').split(/\r?\n/);
  let total = 0;
  for (let i = 0; i < lines.length && files.length < maxFiles && total < maxBytes; i++) {
    const line = lines[i] as string;
    const uu = /^begin(?:-base64)? [0-7]{3,4} (.+)$/.exec(line);
    if (uu) {
      const out: number[] = [];
      let j = i + 1;
      for (; j < lines.length && out.length < maxBytes; j++) {
        const l = lines[j] as string;
        if (l === 'end' || l.startsWith('end ')) break;
        if (l === '' || l === '`') continue;
        uudecodeLine(l, out);
      }
      const content = Buffer.from(out);
      total += content.length;
      files.push({ kind: 'uuencode', filename: (uu[1] as string).trim(), content });
      i = j;
      continue;
    }
    if (line.startsWith('=ybegin ')) {
      const name = / name=(.*)$/.exec(line)?.[1]?.trim() ?? 'yenc.bin';
      const data: string[] = [];
      let j = i + 1;
      for (; j < lines.length; j++) {
        const l = lines[j] as string;
        if (l.startsWith('=yend')) break;
        if (l.startsWith('=ypart ')) continue;
        data.push(l);
      }
      const content = ydecode(data).subarray(0, Math.max(0, maxBytes - total));
      total += content.length;
      files.push({ kind: 'yenc', filename: name, content });
      i = j;
    }
  }
  return files;
}
