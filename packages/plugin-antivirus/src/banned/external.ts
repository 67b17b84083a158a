/**
 * 7z and rar archives, listed and read through Debian's `7zz` (package `7zip`) and
 * `unrar-free` as bounded child processes: a time limit, a cap on what they print, the
 * archive in a private temporary folder (mode 0700) removed afterwards, and member contents
 * read one at a time to stdout (7z) or from a bounded extraction (rar).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bufferReader, visitMember, type Walk } from './archives.js';

/** Longest run of one archive tool (ms). */
const TOOL_TIMEOUT_MS = 10_000;
/** Most bytes of listing read from a tool. */
const LISTING_BYTES = 1024 * 1024;
/** Most members of one 7z/rar whose content is read (each read is one process). */
const MAX_CONTENT_READS = 32;

/** The result of one bounded run. */
interface RunResult {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  /** stdout went over the cap and the process was stopped. */
  readonly capped: boolean;
}

/** Runs a tool with a time limit and an output cap; never throws for the tool's own failure. */
export function runBounded(
  cmd: string,
  args: readonly string[],
  maxOutput: number,
  cwd?: string,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
    const out: Buffer[] = [];
    let size = 0;
    let capped = false;
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), TOOL_TIMEOUT_MS);
    child.stdout.on('data', (c: Buffer) => {
      if (capped) return;
      size += c.length;
      out.push(c);
      if (size > maxOutput) {
        capped = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (c: Buffer) => {
      if (err.length < 4096) err += c.toString('utf8');
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        e.code === 'ENOENT'
          ? new Error(`${cmd} is not installed (apt-get install ${cmd === '7zz' ? '7zip' : 'unrar-free'})`)
          : e,
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && !capped) {
        reject(new Error(`${cmd} took longer than ${TOOL_TIMEOUT_MS} ms`));
        return;
      }
      resolve({ code, stdout: Buffer.concat(out).subarray(0, maxOutput), stderr: err, capped });
    });
  });
}

async function withTempFile<T>(buffer: Buffer, fn: (file: string, dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'mef-av-'));
  try {
    const file = join(dir, 'archive');
    await writeFile(file, buffer, { mode: 0o600 });
    return await fn(file, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Listed {
  name: string;
  size: number;
  packed: number;
  encrypted: boolean;
  /** A stored (uncompressed) RAR 4 member: its bytes, read from the archive itself. */
  stored?: Buffer;
}

/** Parses `7zz l -slt -ba` blocks. */
export function parse7zListing(text: string): Listed[] {
  const out: Listed[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const f = new Map<string, string>();
    for (const line of block.split(/\r?\n/)) {
      const i = line.indexOf(' = ');
      if (i > 0) f.set(line.slice(0, i), line.slice(i + 3));
    }
    const path = f.get('Path');
    if (path === undefined) continue;
    if (f.get('Folder') === '+' || /^D/.test(f.get('Attributes') ?? '')) continue;
    out.push({
      name: path,
      size: Number(f.get('Size')) || 0,
      packed: Number(f.get('Packed Size')) || 0,
      encrypted: f.get('Encrypted') === '+',
    });
  }
  return out;
}

/** Lists a 7z archive and reads its members (one `7zz e -so` per member, capped). */
export async function walk7z(buffer: Buffer, label: string, depth: number, walk: Walk): Promise<void> {
  await withTempFile(buffer, async (file) => {
    const list = await runBounded(
      '7zz',
      ['l', '-slt', '-ba', '-bd', '-p-', '-sccUTF-8', '--', file],
      LISTING_BYTES,
    );
    const text = list.stdout.toString('utf8');
    if (list.code !== 0) {
      if (/encrypted|Wrong password/i.test(text + list.stderr)) {
        walk.report.encrypted.push(`${label} (encrypted names)`);
      } else {
        walk.report.unreadable.push(`${label}: 7z archive could not be listed`);
      }
      return;
    }
    if (list.capped) walk.report.unreadable.push(`${label}: listing longer than ${LISTING_BYTES} bytes`);
    let reads = 0;
    for (const m of parse7zListing(text)) {
      const read =
        reads++ < MAX_CONTENT_READS
          ? async (max: number) => {
              const r = await runBounded('7zz', ['e', '-so', '-bd', '-p-', '-spd', '--', file, m.name], max);
              return { data: r.stdout, complete: !r.capped && r.code === 0 };
            }
          : undefined;
      const go = await visitMember(
        walk,
        label,
        depth,
        { name: m.name, encrypted: m.encrypted, uncompressedSize: m.size, compressedSize: m.packed },
        read,
      );
      if (!go) return;
    }
  });
}

/** Parses the table `unrar-free -t` prints: a name line, then a size line, per member. */
export function parseRarListing(text: string): Listed[] {
  const out: Listed[] = [];
  const lines = text.split(/\r?\n/);
  const first = lines.findIndex((l) => /^-{10,}$/.test(l));
  if (first < 0) return out;
  for (let i = first + 1; i + 1 < lines.length && !/^-{10,}$/.test(lines[i] ?? ''); i += 2) {
    const name = (lines[i] ?? '').replace(/^ /, '');
    const size = /^\s*(\d+)\s/.exec(lines[i + 1] ?? '');
    if (name) out.push({ name, size: Number(size?.[1]) || 0, packed: 0, encrypted: false });
  }
  return out;
}

/** Names, sizes and the password flag of the members of a RAR 1.5-4 archive, from its block headers. */
export function rar4Headers(buffer: Buffer): Listed[] | undefined {
  if (buffer.length < 7 || buffer[6] !== 0x00) return undefined; // RAR 5 has 0x01 here
  const out: Listed[] = [];
  let pos = 7;
  for (let n = 0; n < 100_000 && pos + 7 <= buffer.length; n++) {
    const type = buffer[pos + 2];
    const flags = buffer.readUInt16LE(pos + 3);
    const size = buffer.readUInt16LE(pos + 5);
    if (size < 7) return out;
    const add = flags & 0x8000 && pos + 11 <= buffer.length ? buffer.readUInt32LE(pos + 7) : 0;
    if (type === 0x74 && pos + 32 <= buffer.length) {
      const nameSize = buffer.readUInt16LE(pos + 26);
      const nameAt = pos + 32 + (flags & 0x100 ? 8 : 0);
      const raw = buffer.subarray(nameAt, Math.min(buffer.length, nameAt + nameSize));
      // A unicode name follows a NUL after its ASCII form: keep the ASCII one.
      const zero = raw.indexOf(0);
      const name = (zero >= 0 ? raw.subarray(0, zero) : raw).toString('latin1').replace(/\\/g, '/');
      const dir = (flags & 0xe0) === 0xe0;
      if (!dir) {
        const packed = buffer.readUInt32LE(pos + 7);
        const encrypted = (flags & 0x04) !== 0;
        const at = pos + size;
        const stored =
          !encrypted && buffer[pos + 25] === 0x30 && at + packed <= buffer.length
            ? buffer.subarray(at, at + packed)
            : undefined;
        out.push({
          name,
          size: buffer.readUInt32LE(pos + 11),
          packed,
          encrypted,
          ...(stored ? { stored } : {}),
        });
      }
    }
    if (type === 0x7b) break;
    pos += size + add;
  }
  return out;
}

async function filesUnder(dir: string, base = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, base), { withFileTypes: true })) {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}

/**
 * Lists a rar archive (RAR 1.5-4 from its block headers, else with `unrar-free -t`). Stored
 * members are read from the archive itself; compressed ones are extracted with `unrar-free`
 * into the private folder (bounded in time) and read from there.
 */
export async function walkRar(buffer: Buffer, label: string, depth: number, walk: Walk): Promise<void> {
  await withTempFile(buffer, async (file, dir) => {
    const list = await runBounded('unrar-free', ['-t', file], LISTING_BYTES);
    const listed = rar4Headers(buffer) ?? parseRarListing(list.stdout.toString('utf8'));
    if (listed.length === 0) {
      walk.report.unreadable.push(`${label}: rar archive could not be listed`);
      return;
    }
    const out = join(dir, 'x');
    const total = listed.reduce((s, m) => s + m.size, 0);
    let files = new Map<string, string>();
    const needTool = listed.some((m) => !m.stored && !m.encrypted);
    if (needTool && total <= walk.limits.maxNestedBytes && listed.every((m) => !m.encrypted)) {
      await mkdir(out, { mode: 0o700 });
      await runBounded('unrar-free', ['-x', '-f', file], LISTING_BYTES, out).catch(() => undefined);
      const found = await filesUnder(out).catch(() => [] as string[]);
      files = new Map(found.map((f) => [f, join(out, f)]));
    }
    for (const m of listed) {
      const onDisk = files.get(m.name.replace(/\\/g, '/'));
      const read = m.stored
        ? bufferReader(m.stored)
        : onDisk
          ? async (max: number) => {
              const s = await stat(onDisk);
              const data = await readFile(onDisk);
              return { data: data.subarray(0, max), complete: s.size <= max };
            }
          : undefined;
      const go = await visitMember(
        walk,
        label,
        depth,
        { name: m.name, encrypted: m.encrypted, uncompressedSize: m.size, compressedSize: m.packed },
        read,
      );
      if (!go) return;
    }
  });
}
