#!/usr/bin/env bash
# The one test command (README's `npm test`, and what .ci/run calls): installs what the tests
# need, runs every test once, and ends with a plain line `N passed, N failed`.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh || exit 1
if [ "$(id -u)" = "0" ] || [ -n "${CI:-}" ]; then
  bash scripts/install-servers.sh || exit 1
fi
mkdir -p .tmp
rm -f .tmp/vitest.json
bash scripts/pnpm.sh exec vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json "$@"
status=$?
node -e '
  const fs = require("fs");
  let r;
  try { r = JSON.parse(fs.readFileSync(".tmp/vitest.json", "utf8")); } catch { console.log("0 passed, 1 failed"); process.exit(0); }
  const failed = r.numFailedTests + (r.numFailedTestSuites || 0) - 0;
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests + (r.success || r.numFailedTests ? 0 : 1)} failed` + (skipped ? `, ${skipped} skipped` : ""));
'
exit $status
