# Instrumented builds for the reliability checks (docs/RELIABILITY.md). Both options
# apply to every target of the build, so the gateway code under test is instrumented,
# not only the test programs; use a build directory of their own (tests/sanitize.sh).
#
# SWITCHYARD_SANITIZE: AddressSanitizer + UndefinedBehaviorSanitizer for the whole test
#   suite. UBSan findings abort (-fno-sanitize-recover), so a test that triggers one fails.
# SWITCHYARD_FUZZ: libFuzzer targets under tests/fuzz (clang only); adds libFuzzer's
#   coverage instrumentation to every object, the fuzzer's main only to the fuzzers.
option(SWITCHYARD_SANITIZE "Build everything with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(SWITCHYARD_FUZZ "Build the libFuzzer targets in tests/fuzz (needs clang)" OFF)

if(SWITCHYARD_SANITIZE)
    add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    add_link_options(-fsanitize=address,undefined)
endif()

if(SWITCHYARD_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
        message(FATAL_ERROR "SWITCHYARD_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
    endif()
    add_compile_options(-fsanitize=fuzzer-no-link)
endif()
