# Shared limits through Redis (issue 6): a real redis-server started by each test.
switchyard_add_test(gateway/shared/testredislimitstore.cpp LIBS sharedlimits testsupport)
switchyard_add_test(gateway/shared/testredisendpoint.cpp LIBS sharedlimits)
