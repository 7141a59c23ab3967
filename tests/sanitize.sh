#!/usr/bin/env bash
# The instrumented half of ./test.sh: the whole test suite built with AddressSanitizer and
# UndefinedBehaviorSanitizer (clang, build directory build-asan/), then every libFuzzer
# target for a bounded time (tests/fuzz/run-fuzzers.sh).
#
#   tests/sanitize.sh [--fuzz-seconds S] [--no-fuzz] [--no-tests]
#
# A sanitizer report fails the test that triggered it (UBSan findings abort, leaks fail
# at exit); a fuzzer finding fails the script. Suppressions, each with its reason, are in
# tests/sanitize/lsan.supp (leaks inside system libraries only, never Switchyard code).
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=60
RUN_FUZZ=1
RUN_TESTS=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --fuzz-seconds) FUZZ_SECONDS="$2"; shift 2 ;;
        --no-fuzz) RUN_FUZZ=0; shift ;;
        --no-tests) RUN_TESTS=0; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "sanitize: unknown option $1" >&2; exit 64 ;;
    esac
done

./packaging/install-deps.sh
started=$SECONDS
CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON \
    -DSWITCHYARD_SANITIZE=ON -DSWITCHYARD_FUZZ=ON >/dev/null
if [[ $RUN_TESTS == 1 ]]; then
    cmake --build build-asan
else
    cmake --build build-asan --target fuzzers # the fuzzers and what they link, not every suite
fi
# Printed so CI logs show what the instrumented half costs (docs/RELIABILITY.md).
echo "sanitize: build took $((SECONDS - started)) s"

# Not strict_string_checks: with it, libxkbcommon-x11's strndup of X atom names is
# reported as an overflow inside the system library when the console starts under Xvfb.
export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitize/lsan.supp:print_suppressions=0"
if [[ $RUN_TESTS == 1 ]]; then
    # Instrumented code runs 2-3x slower: suites get a longer timeout than in test.sh.
    # A suite that fails is run once more: instrumented timing makes a rare scheduling
    # flake likelier, while a sanitizer finding is deterministic for a suite's fixed
    # inputs and fails both runs (the uninstrumented run in test.sh gets no second try).
    started=$SECONDS
    ctest --test-dir build-asan --output-on-failure -j 2 --timeout 900 --repeat until-pass:2
    echo "sanitize: the whole suite took $((SECONDS - started)) s"
fi
if [[ $RUN_FUZZ == 1 ]]; then
    tests/fuzz/run-fuzzers.sh --seconds "$FUZZ_SECONDS" build-asan
fi
