# Engine metrics for GPU-aware routing (gateway/gpu).
switchyard_add_test(gateway/gpu/testprometheustext.cpp LIBS gpusignals)
switchyard_add_test(gateway/gpu/testenginemetrics.cpp LIBS gpusignals)
target_compile_definitions(test_gateway_gpu_enginemetrics
    PRIVATE GPU_TEST_DATA_DIR="${CMAKE_CURRENT_SOURCE_DIR}/gateway/gpu/data")
switchyard_add_test(gateway/gpu/testenginesignalstracker.cpp LIBS gpusignals)
switchyard_add_test(gateway/gpu/testenginesignalboard.cpp LIBS gpusignals)
# Real sockets on 127.0.0.1.
switchyard_add_test(gateway/gpu/testmetricsscraper.cpp LIBS gpusignals)
target_compile_definitions(test_gateway_gpu_metricsscraper
    PRIVATE GPU_TEST_DATA_DIR="${CMAKE_CURRENT_SOURCE_DIR}/gateway/gpu/data")
