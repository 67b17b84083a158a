/** 7z archives made by the real `7zz` (Debian package 7zip), in a temporary folder removed after. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A 7z of `files`; `password` encrypts the content, `headers` the names too. */
export function make7z(files: Record<string, Buffer>, password?: string, headers = false): Buffer {
  const work = mkdtempSync(join(tmpdir(), 'mef-av-7z-'));
  try {
    for (const [name, data] of Object.entries(files)) writeFileSync(join(work, name), data);
    const args = ['a', '-bd', 'out.7z', ...Object.keys(files)];
    if (password) args.push(`-p${password}`, ...(headers ? ['-mhe=on'] : []));
    execFileSync('7zz', args, { cwd: work, stdio: 'ignore' });
    return readFileSync(join(work, 'out.7z'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
