# Response caching: the key, the bounded stores (pure logic over caller-supplied time),
# and the whole path over real sockets with simulated upstreams.
switchyard_add_test(gateway/cache/testrequestkey.cpp LIBS gateway)
switchyard_add_test(gateway/cache/testexactcache.cpp LIBS gateway)
switchyard_add_test(gateway/cache/testsemanticindex.cpp LIBS gateway)
switchyard_add_test(gateway/cache/testcacheconfig.cpp LIBS gateway)
switchyard_add_test(gateway/cache/testresponsecache.cpp LIBS gateway upstreamsim testsupport)
