#pragma once

#include "responseframer.h"

#include <QByteArray>

#include <chrono>

namespace Gateway::Upstream {

class PlainConnection;
class Transfer;
struct PlainOrigin;

// Hands a framed response to the transfer reading it (and its observer).
class PlainSink final : public ResponseFramer::Sink {
public:
    explicit PlainSink(Transfer &transfer)
        : m_transfer {transfer}
    {
    }
    void onHead(int status, const Http::HeaderList &headers) override;
    bool onBody(QByteArrayView data) override;
    bool paused() const override;

private:
    Transfer &m_transfer;
};

// A transfer's state on the built-in HTTP/1.1 client (plaintransfer.cpp holds the
// client's half of CurlMulti and Transfer).
struct PlainState {
    enum class Phase { Connecting, Sending, Head, Body, Finished };

    explicit PlainState(Transfer &transfer)
        : sink {transfer}
    {
    }

    PlainOrigin *origin = nullptr;
    PlainConnection *connection = nullptr;
    QByteArray head;    // request line and headers
    qsizetype sent = 0; // of head + body
    std::size_t addressIndex = 0;
    Phase phase = Phase::Connecting;
    PlainSink sink;
    ResponseFramer framer;
    std::chrono::steady_clock::time_point firstByteDeadline;
    bool reusedConnection = false;
    bool retried = false;
    bool queued = false; // in CurlMulti::m_plainQueue
    int finishCode = 0;  // Finished: the outcome, reported from the event loop
};

} // namespace Gateway::Upstream
