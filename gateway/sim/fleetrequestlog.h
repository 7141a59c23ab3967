#pragma once

#include "fleetrequest.h"

#include <QMutex>

#include <vector>

namespace Gateway::Sim {

// What a fleet-mode server was asked, one entry per inference request it accepted, so
// tests can check what the gateway sent (e.g. the two steps of a disaggregated request).
struct FleetRequestRecord {
    int promptTokens = 0;
    int maxTokens = -1; // as sent; -1 = absent
    bool stream = false;
    QByteArray requestId; // the X-Request-Id header; empty when absent
    KvTransferRequest kvTransfer;
};

// Appended on the server's worker thread, read from any thread.
class FleetRequestLog final {
public:
    void add(FleetRequestRecord record)
    {
        const QMutexLocker lock {&m_mutex};
        m_records.push_back(std::move(record));
    }

    std::vector<FleetRequestRecord> records() const
    {
        const QMutexLocker lock {&m_mutex};
        return m_records;
    }

private:
    mutable QMutex m_mutex;
    std::vector<FleetRequestRecord> m_records;
};

} // namespace Gateway::Sim
