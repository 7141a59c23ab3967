# Fault injection over real sockets (docs/RELIABILITY.md, "Faults").
switchyard_add_test(gateway/faults/testupstreamfaults.cpp LIBS gateway upstreamsim testsupport)
switchyard_add_test(gateway/faults/testclientfaults.cpp LIBS gateway upstreamsim testsupport)
# The 10,000-connection case runs the gateway as a child process.
target_compile_definitions(test_gateway_faults_clientfaults PRIVATE SWITCHYARD_BINARY="$<TARGET_FILE:switchyard>")
add_dependencies(test_gateway_faults_clientfaults switchyard)
math(EXPR faults_timeout "240 * ${SWITCHYARD_TEST_TIMEOUT_SCALE}")
set_tests_properties(gateway.faults.upstreamfaults gateway.faults.clientfaults PROPERTIES
    TIMEOUT ${faults_timeout} LABELS faults)
