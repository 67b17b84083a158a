#!/usr/bin/env bash
# Installs the workspace's packages when they are missing or older than the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f node_modules/.modules.yaml ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
  bash scripts/pnpm.sh install --frozen-lockfile
fi
