#!/usr/bin/env bash
# Fails when the lockfile resolves more than one workerd: the app (wrangler),
# the CLI scripts (getPlatformProxy) and the tests (@cloudflare/vitest-plugin)
# must all run the runtime production is tested against.
set -euo pipefail
cd "$(dirname "$0")/.."
versions=$(grep -oE "^  workerd@[0-9][^:('\"]*" pnpm-lock.yaml | sed 's/^  workerd@//' | sort -u)
count=$(printf '%s\n' "$versions" | grep -c . || true)
if [ "$count" -ne 1 ]; then
  echo "error: expected exactly one workerd in pnpm-lock.yaml, found ${count}: $(echo $versions)" >&2
  echo "pin wrangler to the version @cloudflare/vitest-plugin depends on (pnpm why wrangler workerd)" >&2
  exit 1
fi
echo "one workerd: ${versions}"
