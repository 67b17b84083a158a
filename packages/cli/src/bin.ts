#!/usr/bin/env node
import { isMainThread } from 'node:worker_threads';
import { isEngineThread, serveEngineThread } from './engine-thread.js';
import { run } from './program.js';
import { isRelayThread, serveRelayThreadHere } from './relay-thread.js';
import { workerMain } from './workers.js';

if (isMainThread) {
  // `mef scan --json dir | head`: the reader went away; stop quietly, as Unix tools do.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  run(process.argv.slice(2), {
    stdout: (s) => {
      process.stdout.write(s);
    },
    stderr: (s) => {
      process.stderr.write(s);
    },
    stdin: process.stdin,
    isTTY: process.stderr.isTTY === true,
    ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
    // `--workers` starts this same file as each worker thread.
    workerScript: new URL(import.meta.url),
  }).then((code) => {
    // Exit once standard output has drained (a pipe), without waiting for a scanner's socket
    // that a timed-out stage left open to close by itself.
    process.exitCode = code;
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
} else if (isEngineThread()) {
  serveEngineThread();
} else if (isRelayThread()) {
  serveRelayThreadHere();
} else {
  void workerMain();
}
