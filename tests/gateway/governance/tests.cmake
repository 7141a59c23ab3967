# Governance: pure logic over caller-supplied time, no sockets.
switchyard_add_test(gateway/governance/testtokenbucket.cpp LIBS governance)
switchyard_add_test(gateway/governance/testutcwindow.cpp LIBS governance)
switchyard_add_test(gateway/governance/testpricetable.cpp LIBS governance)
switchyard_add_test(gateway/governance/testlocallimitstore.cpp LIBS governance)
