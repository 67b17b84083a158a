import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

const PREFIX = '$scrypt$';

function scrypt(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, 32, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/**
 * Hashes a password for the users file: `$scrypt$N=16384,r=8,p=1$SALT$HASH` (base64). A line of
 * the file is `user:HASH`.
 */
export async function hashPassword(
  password: string,
  cost: { N?: number; r?: number; p?: number } = {},
): Promise<string> {
  const n = cost.N ?? 16384;
  const r = cost.r ?? 8;
  const p = cost.p ?? 1;
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, n, r, p);
  return `${PREFIX}N=${n},r=${r},p=${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** The users of a submission listener, read from a file of `user:HASH` lines (`#` comments). */
export class UsersFile {
  private readonly users = new Map<string, string>();

  constructor(readonly path: string) {
    const text = readFileSync(path, 'utf8');
    let n = 0;
    for (const raw of text.split('\n')) {
      n++;
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const colon = line.indexOf(':');
      const hash = line.slice(colon + 1);
      if (colon < 1 || !hash.startsWith(PREFIX)) {
        throw new TypeError(`${path}:${n}: expected "user:${PREFIX}N=...,r=...,p=...$SALT$HASH"`);
      }
      this.users.set(line.slice(0, colon), hash);
    }
  }

  /** True when the password matches the user's scrypt hash (compared in constant time). */
  async verify(user: string, password: string): Promise<boolean> {
    const stored = this.users.get(user);
    if (!stored) return false;
    const m = /^\$scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([^$]+)\$([^$]+)$/.exec(stored);
    if (!m) return false;
    const expected = Buffer.from(m[5] as string, 'base64');
    const n = Number(m[1]);
    if (n > 2 ** 20 || expected.length !== 32) return false;
    const key = await scrypt(password, Buffer.from(m[4] as string, 'base64'), n, Number(m[2]), Number(m[3]));
    return timingSafeEqual(key, expected);
  }
}
