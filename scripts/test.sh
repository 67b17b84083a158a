#!/usr/bin/env bash
# The one test command (README's `npm test`, and what .ci/run calls): installs what the tests
# need, runs every test once, and ends with a plain line `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
# Servers and build tools first: installing the workspace compiles better-sqlite3 from source.
if [ "$(id -u)" = "0" ] || [ -n "${CI:-}" ]; then
  bash scripts/install-servers.sh || exit 1
fi
bash scripts/bootstrap.sh || exit 1
mkdir -p .tmp
rm -f .tmp/vitest.json
bash scripts/pnpm.sh exec vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json "$@"
status=$?
# A run that failed without a failed test (an unhandled error, a suite that did not load) counts as one failure.
STATUS=$status node -e '
  const fs = require("fs");
  let r;
  try { r = JSON.parse(fs.readFileSync(".tmp/vitest.json", "utf8")); } catch { console.log("0 passed, 1 failed"); process.exit(0); }
  let failed = r.numFailedTests;
  if (failed === 0 && process.env.STATUS !== "0") failed = 1;
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
'
exit $status
