#pragma once

#include <QByteArray>

#include <vector>

namespace Gateway::Cache {

// One semantic-cache entry as persisted: enough to rebuild the index after a restart.
struct SemanticRecord {
    QByteArray route;
    QByteArray partition; // RequestKey::context
    std::vector<float> embedding; // unit length
    bool stream = false;
    QByteArray contentType;
    QByteArray body;
    qint64 tokensIn = 0;
    qint64 tokensOut = 0;
    qint64 costNanos = 0;
    qint64 storedAtMs = 0;  // Unix epoch ms
    qint64 expiresAtMs = 0; // Unix epoch ms
};

// Where the data plane hands new semantic entries so they survive restarts.
// Implemented by the store (storage/), which writes on its own thread: stored() must
// return at once and never fail the request.
class SemanticStore {
public:
    virtual ~SemanticStore() = default;
    virtual void stored(SemanticRecord &&record) = 0;
};

} // namespace Gateway::Cache
