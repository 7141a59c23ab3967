#pragma once

#include <QByteArray>

#include <memory>

namespace Gateway::Cache {

// One stored answer, exactly as the client received it: a whole JSON body, or the SSE
// bytes of a stream that completed cleanly (replayed as a stream). Immutable once
// stored; shared by the index and every reply that serves it.
struct CachedAnswer {
    bool stream = false;
    QByteArray contentType;
    QByteArray body;
    // What the original answer used and cost: a hit saves this much.
    qint64 tokensIn = 0;
    qint64 tokensOut = 0;
    qint64 costNanos = 0;
    qint64 storedAtMs = 0; // wall clock, Unix epoch ms

    // What an entry holds in memory, for the byte bound (payload plus bookkeeping).
    qint64 footprint() const { return body.size() + contentType.size() + 160; }
};

using AnswerPtr = std::shared_ptr<const CachedAnswer>;

} // namespace Gateway::Cache
