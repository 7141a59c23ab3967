#pragma once

#include "request.h"

#include <QByteArrayView>

#include <functional>

namespace Gateway::Http {

// Asynchronous response sink for one request. A handler may answer at once or later
// (streaming), but must end every response with finish() or abort().
class ResponseWriter {
public:
    virtual ~ResponseWriter() = default;

    // Sends the status line and headers. contentLength < 0 streams the body with chunked
    // encoding (or until close for HTTP/1.0 clients). Framing headers are added here;
    // handlers must not pass content-length, transfer-encoding or connection.
    virtual void writeHead(int status, const HeaderList &headers, qint64 contentLength) = 0;
    virtual void writeBody(QByteArrayView data) = 0;
    virtual void finish() = 0;
    // Ends the connection without completing the response (e.g. a broken stream).
    virtual void abort() = 0;

    virtual bool headSent() const = 0;
    // Bytes accepted but not yet written to the client; a producer pauses above a limit.
    virtual qint64 pendingBytes() const = 0;
    // Called once pending bytes fall back under the limit after having exceeded it.
    virtual void setDrainedCallback(std::function<void()> callback) = 0;

    void respond(int status, const HeaderList &headers, QByteArrayView body)
    {
        writeHead(status, headers, body.size());
        writeBody(body);
        finish();
    }
};

} // namespace Gateway::Http
