#pragma once

#include "http/request.h"

#include <QByteArray>

#include <vector>

namespace Gateway::Upstream {

// Everything needed to send one request upstream; a value, like Transmission's
// FetchOptions, so an attempt can be rebuilt for a retry on another target.
struct UpstreamRequest {
    QByteArray url;
    QByteArray method = "POST";
    std::vector<QByteArray> headers; // complete "Name: value" lines
    QByteArray body;
    int connectTimeoutMs = 2000;
    int firstByteTimeoutMs = 30000; // request sent -> first response body byte
    int idleTimeoutMs = 60000;      // longest silence between body bytes
    // http:// only: HTTP/2 without TLS from the first byte (h2c, prior knowledge), so
    // streams to one origin share multiplexed connections. Always served by curl.
    bool http2PriorKnowledge = false;
};

enum class TransferError {
    None,
    ConnectFailed,  // refused, unreachable, DNS failure: nothing was sent
    ConnectTimeout,
    FirstByteTimeout,
    IdleTimeout,
    Reset,          // connection broke after the request was (partly) sent
    Aborted,        // the observer asked to stop
    Other,
};

struct TransferResult {
    TransferError error = TransferError::None;
    QByteArray errorText; // curl's message, for logs and error bodies; never secrets
    int status = 0;       // HTTP status, 0 if no response head arrived
};

// Receives one transfer's events on the worker thread. onResponseData may ask to stop
// by returning false. onComplete may destroy the Transfer; the other two must not.
class TransferObserver {
public:
    virtual ~TransferObserver() = default;
    // `headers` holds only content-type, retry-after and rate-limit headers (lower-case).
    virtual void onResponseHead(int status, const Http::HeaderList &headers) = 0;
    virtual bool onResponseData(QByteArrayView data) = 0;
    virtual void onComplete(const TransferResult &result) = 0;
};

} // namespace Gateway::Upstream
