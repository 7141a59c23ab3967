#pragma once

#include "http/request.h"

#include <QByteArrayView>

#include <http_parser.h>

#include <string>

namespace Gateway::Upstream {

// Frames one HTTP/1.x response read from an upstream connection, with http-parser: the
// status line and headers, then a body delimited by Content-Length, chunked encoding or
// the end of the connection. 1xx interim responses are skipped. Body bytes are handed to
// the sink as slices of the caller's buffer (no copy); framing stops where the response
// ends, so bytes beyond it stay with the caller.
class ResponseFramer final {
public:
    // The transfer reading the response.
    class Sink {
    public:
        // The final response's head: status and the headers the gateway keeps
        // (isKeptResponseHeader), names in lower case.
        virtual void onHead(int status, const Http::HeaderList &headers) = 0;
        // A slice of the body. Returns false to abort.
        virtual bool onBody(QByteArrayView data) = 0;
        // The receiver is paused: framing stops after the current slice (but a body that
        // the slice completes still completes).
        virtual bool paused() const = 0;

    protected:
        ~Sink() = default;
    };

    enum class Error {
        None,
        MalformedHead, // not an HTTP/1.x response head, or contradictory framing headers
        HeadTooLarge,
        Upgrade,       // 101 Switching Protocols
        MalformedBody, // e.g. a bad chunk size line
        Truncated,     // the connection closed inside the body
        Aborted,       // the sink refused a slice
    };

    ResponseFramer();

    // Ready for a new response, reported to `sink`.
    void start(Sink &sink);

    // Frames the next bytes; returns how many were used. Stops at the end of the
    // response, on an error, or after a slice delivered while the sink is paused.
    qsizetype feed(QByteArrayView data);
    // The connection closed: completes a close-delimited body, otherwise the response
    // is truncated. Call only once the head is complete.
    void feedEof();

    bool headComplete() const { return m_headComplete; }
    bool complete() const { return m_complete; }
    Error error() const { return m_error; }
    int status() const { return m_status; }
    // Whether the connection may carry another request after this response.
    bool keepAlive() const { return m_keepAlive; }
    // Bytes of the current response's head seen so far (after any interim response):
    // zero means nothing of the answer has arrived.
    qsizetype headBytes() const { return m_headBytes; }
    // Whether body bytes were framed by the latest feed().
    bool bodyFramed() const { return m_bodyFramed; }

private:
    friend struct ResponseFramerCallbacks;

    // A header name or value, usually a view of the caller's buffer; copied only when it
    // is split across two feed() calls.
    struct Piece {
        const char *data = nullptr;
        std::size_t size = 0;
        std::string owned;
        bool isOwned = false;

        void clear();
        void append(const char *at, std::size_t length);
        void keep(); // about to lose the caller's buffer
        QByteArrayView view() const;
    };

    void beginMessage();
    void endHeader();
    int onHeadersComplete();

    http_parser m_parser;
    Sink *m_sink = nullptr;
    Http::HeaderList m_headers;
    Piece m_field;
    Piece m_value;
    bool m_inValue = false;
    int m_connectionToken = 0; // the last Connection token seen: 1 close, 2 keep-alive
    int m_status = 0;
    qsizetype m_headBytes = 0;
    Error m_error = Error::None;
    bool m_headComplete = false;
    bool m_interim = false; // the current message is a 1xx response
    bool m_restart = false; // an interim response ended: the real one follows
    bool m_complete = false;
    bool m_keepAlive = false;
    bool m_bodyFramed = false;
};

} // namespace Gateway::Upstream
