#pragma once

#include "http/request.h"

#include <QByteArrayView>

namespace Gateway::Upstream {

// Frames one HTTP/1.x response read from an upstream connection: the status line and
// headers, then a body delimited by Content-Length, chunked encoding or the end of the
// connection. 1xx interim responses are skipped. Body bytes are handed to the sink as
// slices of the caller's buffer (no copy); framing stops where the response ends, so
// bytes beyond it stay with the caller, and so do incomplete heads and chunk lines (the
// caller keeps them and feeds them again with what follows).
//
// Hand-written on purpose, for now: http-parser (which frames requests) was measured
// here at about 8% more instructions per proxied request, byte-at-a-time over the
// response head (docs/ARCHITECTURE.md).
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
        MalformedHead, // not an HTTP/1.x status line, or contradictory Content-Lengths
        HeadTooLarge,
        Upgrade,       // 101 Switching Protocols
        MalformedBody, // e.g. a bad chunk size line
        Truncated,     // the connection closed inside the body
        Aborted,       // the sink refused a slice
    };

    // curl's limit for one header block; also for a chunk size or trailer line.
    static constexpr qsizetype MAX_HEAD_BYTES = 100 * 1024;

    ResponseFramer() = default;

    // Ready for a new response, reported to `sink`.
    void start(Sink &sink);

    // Frames the next bytes; returns how many were used. Stops at the end of the
    // response, on an error, at an incomplete head or line, or after a slice delivered
    // while the sink is paused.
    qsizetype feed(QByteArrayView data);
    // The connection closed: completes a close-delimited body, otherwise the response
    // is truncated. Call only once the head is complete (before, the caller knows from
    // its buffer whether any of the answer arrived).
    void feedEof();

    bool headComplete() const { return m_headComplete; }
    bool complete() const { return m_complete; }
    Error error() const { return m_error; }
    int status() const { return m_status; }
    // Whether the connection may carry another request after this response.
    bool keepAlive() const { return m_keepAlive; }
    // Whether body bytes were framed by the latest feed().
    bool bodyFramed() const { return m_bodyFramed; }

private:
    enum class Framing { Length, Chunked, UntilClose, None };
    enum class Chunk { Size, Data, DataEnd, Trailer };

    // Reads one head at the start of `input`; returns its length, 0 when incomplete, -1
    // on an error (m_error says which).
    qsizetype readHead(QByteArrayView input, bool &interim);
    qsizetype frameBody(QByteArrayView input);

    Sink *m_sink = nullptr;
    Http::HeaderList m_headers;
    Framing m_framing = Framing::Length;
    Chunk m_chunk = Chunk::Size;
    qint64 m_remaining = 0; // Length: body bytes to come; Chunked: of the current chunk
    int m_status = 0;
    Error m_error = Error::None;
    bool m_headComplete = false;
    bool m_complete = false;
    bool m_keepAlive = false;
    bool m_bodyFramed = false;
};

} // namespace Gateway::Upstream
