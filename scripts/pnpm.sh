#!/usr/bin/env bash
# Runs the pinned pnpm: the global one when it is 12.4.2, else through npx (no global install needed).
set -euo pipefail
# better-sqlite3 builds from source (no prebuilt download offline): node-gyp takes Node's own headers.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi
if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "12.4.2" ]; then
  exec pnpm "$@"
fi
exec npx -y pnpm@12.4.2 "$@"
