# Fleet simulator (gateway/sim/fleet): pure logic on a virtual clock, small fleets and
# short horizons so each test stays well under ten seconds in Debug.
switchyard_add_test(gateway/sim/fleet/testkvblockcache.cpp LIBS fleetsim)
switchyard_add_test(gateway/sim/fleet/testservermodel.cpp LIBS fleetsim)
switchyard_add_test(gateway/sim/fleet/testworkloads.cpp LIBS fleetsim)
switchyard_add_test(gateway/sim/fleet/testrequestlog.cpp LIBS fleetsim)
switchyard_add_test(gateway/sim/fleet/testfleetdriver.cpp LIBS fleetsim)
# Fleet mode of the simulated upstream: the same engine model on real sockets.
switchyard_add_test(gateway/sim/testfleetserver.cpp LIBS upstreamsim testsupport)
