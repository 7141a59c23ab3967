#pragma once

#include "requestparser.h"

#include <QtGlobal>

#include <atomic>
#include <memory>

namespace Gateway::Http {

class TlsContext;

struct ServerLimits {
    qint64 maxHeaderBytes = MAX_HEADER_BYTES;
    qint64 maxBodyBytes = 32LL * 1024 * 1024;
    int headerTimeoutMs = 10000;
    int bodyTimeoutMs = 60000;
    int idleTimeoutMs = 60000;
    int maxConnections = 10000;
    // Above this many unsent response bytes, a streaming producer is asked to pause.
    qint64 writeHighWaterBytes = 1024 * 1024;
    // Set: every connection speaks TLS with this context (gateway.tls_cert_file/key_file).
    std::shared_ptr<const TlsContext> tls;
};

// Shared by every worker of one server; relaxed atomics, read for status and drain.
struct ServerCounters {
    std::atomic<int> openConnections {0};
    std::atomic<int> activeRequests {0};
};

} // namespace Gateway::Http
