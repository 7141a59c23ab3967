# Exact token counting (gateway/tokenize). The expected ids in data/expected.json come from
# the reference tokenizer (data/README.md).
foreach(unit IN ITEMS ranktable splitters modelencoding bpeencoding tokencounter tokenestimator)
    switchyard_add_test(gateway/tokenize/test${unit}.cpp LIBS tokenize)
    target_compile_definitions(test_gateway_tokenize_${unit}
        PRIVATE TOKENIZE_TEST_DATA_DIR="${CMAKE_CURRENT_SOURCE_DIR}/gateway/tokenize/data")
endforeach()

# Not a test: refits TokenEstimator's weights on the corpus (see the tool's header).
add_executable(switchyard-tokenize-calibrate gateway/tokenize/calibrateestimator.cpp)
target_link_libraries(switchyard-tokenize-calibrate PRIVATE switchyard_common_cfg tokenize)
target_compile_definitions(switchyard-tokenize-calibrate
    PRIVATE TOKENIZE_TEST_DATA_DIR="${CMAKE_CURRENT_SOURCE_DIR}/gateway/tokenize/data")
