# Admission control (issue 5): pure logic over caller-supplied time, no sockets.
switchyard_add_test(gateway/admission/testpriorityclass.cpp LIBS admission)
switchyard_add_test(gateway/admission/testadmissionqueue.cpp LIBS admission)
switchyard_add_test(gateway/admission/testadmissionshedding.cpp LIBS admission)
# Threads and queued calls: std::thread smoke test and the QThread wiring the proxy uses.
switchyard_add_test(gateway/admission/testadmissionthreads.cpp LIBS admission)
