#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzzing build for a bounded time.
#
#   tests/fuzz/run-fuzzers.sh [--seconds S] [--jobs J] BUILD_DIR
#
# BUILD_DIR was configured with -DSWITCHYARD_FUZZ=ON (tests/sanitize.sh does that). Each
# fuzz_<name> runs S seconds (60) starting from tests/fuzz/corpus/<name>/, the fixtures
# tests/fuzz/seeds.txt names and tests/fuzz/regressions/<name>/; what it learns goes to
# BUILD_DIR/fuzz-corpus/<name>/ (kept between runs on one machine). J fuzzers run at
# once (2). A crash, leak or timeout fails the script; the input is saved as
# BUILD_DIR/fuzz-artifacts/<name>-crash-<hash>: reproduce with `fuzz_<name> FILE`, fix,
# and add the file to tests/fuzz/regressions/<name>/ so ctest replays it from then on.
set -euo pipefail
SECONDS_EACH=60
JOBS=2
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) SECONDS_EACH="$2"; shift 2 ;;
        --jobs) JOBS="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "run-fuzzers: unknown option $1" >&2; exit 64 ;;
        *) break ;;
    esac
done
[[ $# -eq 1 ]] || { echo "usage: run-fuzzers.sh [--seconds S] [--jobs J] BUILD_DIR" >&2; exit 64; }
BUILD="$(cd "$1" && pwd)"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
FUZZ_DIR="$ROOT/tests/fuzz"

mapfile -t FUZZERS < <(find "$BUILD/tests/fuzz" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x -printf '%f\n' | sort)
[[ ${#FUZZERS[@]} -gt 0 ]] || { echo "run-fuzzers: no fuzz_* programs in $BUILD/tests/fuzz (configure with -DSWITCHYARD_FUZZ=ON)" >&2; exit 1; }
mkdir -p "$BUILD/fuzz-artifacts" "$BUILD/fuzz-logs"

run_one() {
    local program="$1" name="${1#fuzz_}"
    local inputs=("$FUZZ_DIR/corpus/$name")
    [[ -d "$FUZZ_DIR/regressions/$name" ]] && inputs+=("$FUZZ_DIR/regressions/$name")
    local line dir
    while read -r line; do
        [[ "$line" =~ ^[a-z] ]] || continue
        read -ra fields <<<"$line"
        [[ "${fields[0]}" == "$name" ]] || continue
        for dir in "${fields[@]:1}"; do inputs+=("$ROOT/$dir"); done
    done <"$FUZZ_DIR/seeds.txt"
    mkdir -p "$BUILD/fuzz-corpus/$name"
    # The first directory is where libFuzzer writes new inputs; the others are read only.
    if "$BUILD/tests/fuzz/$program" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$BUILD/fuzz-artifacts/$name-" \
        "$BUILD/fuzz-corpus/$name" "${inputs[@]}" >"$BUILD/fuzz-logs/$name.log" 2>&1; then
        echo "fuzz $name: ok, $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$BUILD/fuzz-logs/$name.log" | grep -o '[0-9]*$') inputs in ${SECONDS_EACH} s"
    else
        echo "fuzz $name: FAILED (log: $BUILD/fuzz-logs/$name.log)"
        grep -E 'property violated|ERROR:|SUMMARY:|Test unit written' "$BUILD/fuzz-logs/$name.log" | head -5 | sed 's/^/  /'
        return 1
    fi
}
export -f run_one
export BUILD FUZZ_DIR ROOT SECONDS_EACH

echo "run-fuzzers: ${#FUZZERS[@]} fuzzers, ${SECONDS_EACH} s each, ${JOBS} at a time"
if printf '%s\n' "${FUZZERS[@]}" | xargs -P "$JOBS" -I{} bash -c 'run_one "$@"' _ {}; then
    echo "run-fuzzers: all passed"
else
    echo "run-fuzzers: a fuzzer found a failure (inputs in $BUILD/fuzz-artifacts/)" >&2
    exit 1
fi
