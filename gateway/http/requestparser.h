#pragma once

#include "request.h"

#include <QByteArray>

#include <memory>

struct http_parser;

namespace Gateway::Http {

inline constexpr qint64 MAX_HEADER_BYTES = 64 * 1024;

// Incremental HTTP/1.x request parser over the Node.js http-parser library. Pure: it
// owns no socket, so every framing rule (smuggling, limits) is testable with bytes.
// It stops after each complete request so pipelined requests are answered in order.
class RequestParser final {
public:
    enum class Status { NeedMore, Complete, Error };

    // What went wrong, mapped by the connection to a status code.
    enum class ErrorKind {
        None,
        BadRequest,       // 400: malformed syntax, conflicting framing headers
        HeadersTooLarge,  // 431
        BodyTooLarge,     // 413
        UnsupportedCoding // 501: Transfer-Encoding other than chunked
    };

    struct Result {
        Status status = Status::NeedMore;
        qsizetype consumed = 0; // bytes of the input that belong to this request
    };

    explicit RequestParser(qint64 maxBodyBytes, qint64 maxHeaderBytes = MAX_HEADER_BYTES);
    ~RequestParser();
    RequestParser(const RequestParser &) = delete;
    RequestParser &operator=(const RequestParser &) = delete;

    Result feed(const char *data, qsizetype size);

    // After Complete: the request, and the parser is ready for the next one.
    Request takeRequest();

    bool headersComplete() const { return m_headersComplete; }
    bool expectsContinue() const { return m_expectContinue; }
    bool hasStarted() const { return m_started; }
    qint64 declaredContentLength() const { return m_declaredContentLength; }

    ErrorKind errorKind() const { return m_errorKind; }
    const QByteArray &errorMessage() const { return m_errorMessage; }

private:
    friend struct ParserCallbacks;

    void resetMessage();
    int fail(ErrorKind kind, const char *message);
    int onHeadersComplete();

    std::unique_ptr<http_parser> m_parser;
    qint64 m_maxBodyBytes;
    qint64 m_maxHeaderBytes;
    qint64 m_headerBytes = 0;
    qint64 m_declaredContentLength = -1;
    Request m_request;
    QByteArray m_url;
    bool m_lastWasValue = false;
    bool m_started = false;
    bool m_headersComplete = false;
    bool m_messageComplete = false;
    bool m_expectContinue = false;
    ErrorKind m_errorKind = ErrorKind::None;
    QByteArray m_errorMessage;
};

} // namespace Gateway::Http
