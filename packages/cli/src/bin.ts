#!/usr/bin/env node
import { run } from './program.js';

const code = await run(process.argv.slice(2), {
  stdout: (s) => {
    process.stdout.write(s);
  },
  stderr: (s) => {
    process.stderr.write(s);
  },
  stdin: process.stdin,
  isTTY: process.stderr.isTTY === true,
  ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
});
// Let standard output drain (a pipe) before the exit code is set.
process.exitCode = code;
