#pragma once

#include <QByteArray>
#include <QString>

#include <memory>

namespace Gateway::Safety {
class Redactor;
}

namespace Gateway {

// One finished client request, as kept in the request log.
struct RequestLogEntry {
    qint64 finishedAtMs = 0; // Unix epoch, milliseconds
    QByteArray requestId;
    QString virtualKey;   // the key's name, never the key
    QByteArray route;     // model the client asked for
    QByteArray backend;   // "provider/model" that answered (or was tried last)
    QByteArray endpoint;  // "/v1/chat/completions", ...
    int status = 0;       // HTTP status sent to the client (200 for a stream that later failed)
    QByteArray errorClass; // empty on success, else a metrics error class name
    double latencyMs = 0;
    double ttftMs = -1;   // -1 when nothing reached the client
    qint64 tokensIn = -1; // -1 = unknown
    qint64 tokensOut = -1;
    double costUsd = 0;
    int attempts = 0;
    bool stream = false;
    QByteArray routeReason; // why it went where it went; empty unless explain was asked for (or the P/D decision)
    QByteArray cache;       // cached routes: "hit", "semantic-hit", "miss" or "bypass"; empty elsewhere
};

// Where the data plane hands finished requests. record() must never block: an
// implementation queues (bounded) and writes elsewhere, dropping and counting when full.
class RequestLogSink {
public:
    virtual ~RequestLogSink() = default;
    virtual void record(RequestLogEntry &&entry) = 0;
    // An event for the events table (e.g. "failover"); same non-blocking rules.
    virtual void recordEvent(QString kind, QString subject, QByteArray detailJson) = 0;

    // The redaction patterns of the policy in force (`redaction:`), given on every apply:
    // the sink replaces them in every text that can carry client or upstream text before
    // it is stored, on its own thread (docs/SAFETY.md). Sinks that store nothing ignore it.
    virtual void setRedaction(std::shared_ptr<const Safety::Redactor> redactor) { (void)redactor; }

    // For metrics: rows committed, and rows dropped because the writer fell behind.
    virtual quint64 writtenRows() const = 0;
    virtual quint64 droppedRows() const = 0;
};

} // namespace Gateway
