# DNS service discovery (gateway/discovery) and the per-route autoscaling gauges.
# Pure: the config keys and the policy expansion.
switchyard_add_test(gateway/discovery/testdiscoveryconfig.cpp LIBS gateway)
switchyard_add_test(gateway/discovery/testpolicyexpansion.cpp LIBS gateway)
# Real sockets: the resolver against the in-test DNS server, then the gateway end to end.
switchyard_add_test(gateway/discovery/testdnsresolver.cpp LIBS gateway testsupport)
switchyard_add_test(gateway/discovery/testdiscovery.cpp LIBS gateway upstreamsim testsupport)
switchyard_add_test(gateway/discovery/testautoscalingmetrics.cpp LIBS gateway upstreamsim testsupport)
