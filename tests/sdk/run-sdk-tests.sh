#!/usr/bin/env bash
# The official SDK tests (tests/sdk/*.test.mjs) against the gateway. Run by ctest:
# sdk.translation (OpenAI and Anthropic SDKs, simulated upstreams of both formats) and
# sdk.mcp (the MCP SDK on both sides of a switchyard process).
#
#   tests/sdk/run-sdk-tests.sh HOST_PROGRAM WORK_DIR [TEST_FILE...]
#
# HOST_PROGRAM is sdk_gateway_host (tests/sdk/sdkgatewayhost.cpp), which starts a gateway
# and runs node on the tests; "-" runs `node --test` directly (tests that start what they
# need). TEST_FILEs are names in tests/sdk; none = every *.test.mjs. The pinned SDKs
# (package-lock.json) are installed with `npm ci` into WORK_DIR, never into the source
# tree. Exits 77 (ctest SKIP) with "SKIPPED: npm registry unreachable" only when the SDKs
# are not installed yet and npm cannot reach its registry; any other failure fails.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: run-sdk-tests.sh HOST_PROGRAM WORK_DIR [TEST_FILE...]" >&2; exit 64; }
HOST="$1"
WORK="$2"
shift 2
SOURCE="$(cd "$(dirname "$0")" && pwd)"
NODE="$(command -v node || true)"
NPM="$(command -v npm || true)"
if [[ -z "$NODE" || -z "$NPM" ]]; then
    echo "sdk tests: node and npm are required (packaging/install-deps.sh installs them)" >&2
    exit 1
fi

mkdir -p "$WORK"
cp "$SOURCE/package.json" "$SOURCE/package-lock.json" "$SOURCE"/*.test.mjs "$WORK/"
cd "$WORK"
# npm ci reinstalls from scratch; skip it when this exact lock file is already installed.
if ! cmp -s package-lock.json node_modules/.switchyard-installed-lock 2>/dev/null; then
    if ! npm ci --no-audit --no-fund --prefer-offline >npm-ci.log 2>&1; then
        if ! timeout 20 npm ping >/dev/null 2>&1; then
            echo "SKIPPED: npm registry unreachable (npm ci failed; see $WORK/npm-ci.log)"
            exit 77
        fi
        cat npm-ci.log >&2
        exit 1
    fi
    cp package-lock.json node_modules/.switchyard-installed-lock
fi
if [[ $# -gt 0 ]]; then
    TESTS=()
    for name in "$@"; do TESTS+=("$WORK/$name"); done
else
    TESTS=("$WORK"/*.test.mjs)
fi
if [[ "$HOST" == "-" ]]; then
    exec "$NODE" --test "${TESTS[@]}"
fi
exec "$HOST" "$NODE" "${TESTS[@]}"
