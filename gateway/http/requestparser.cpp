#include "requestparser.h"

#include <http_parser.h>

#include <cstring>

namespace Gateway::Http {

struct ParserCallbacks {
    static RequestParser &self(http_parser *parser) { return *static_cast<RequestParser *>(parser->data); }

    static int countHeaderBytes(RequestParser &p, size_t length)
    {
        p.m_headerBytes += static_cast<qint64>(length);
        if (p.m_headerBytes > p.m_maxHeaderBytes) {
            return p.fail(RequestParser::ErrorKind::HeadersTooLarge, "request headers exceed the size limit");
        }
        return 0;
    }

    static int onMessageBegin(http_parser *parser)
    {
        self(parser).m_started = true;
        return 0;
    }

    static int onUrl(http_parser *parser, const char *at, size_t length)
    {
        auto &p = self(parser);
        p.m_url.append(at, static_cast<qsizetype>(length));
        return countHeaderBytes(p, length);
    }

    static int onHeaderField(http_parser *parser, const char *at, size_t length)
    {
        auto &p = self(parser);
        if (p.m_headersComplete) {
            // A chunked body's trailer: validated headers must not change after the
            // fact, so trailers are counted against the limit and dropped.
            return countHeaderBytes(p, length + 4);
        }
        if (p.m_lastWasValue || p.m_request.headers.empty()) {
            p.m_request.headers.push_back({});
            p.m_lastWasValue = false;
        }
        p.m_request.headers.back().name.append(at, static_cast<qsizetype>(length));
        return countHeaderBytes(p, length + 4); // ": " and CRLF
    }

    static int onHeaderValue(http_parser *parser, const char *at, size_t length)
    {
        auto &p = self(parser);
        if (p.m_headersComplete) {
            return countHeaderBytes(p, length);
        }
        p.m_lastWasValue = true;
        p.m_request.headers.back().value.append(at, static_cast<qsizetype>(length));
        return countHeaderBytes(p, length);
    }

    static int onHeadersComplete(http_parser *parser) { return self(parser).onHeadersComplete(); }

    static int onBody(http_parser *parser, const char *at, size_t length)
    {
        auto &p = self(parser);
        if (p.m_request.body.size() + static_cast<qint64>(length) > p.m_maxBodyBytes) {
            return p.fail(RequestParser::ErrorKind::BodyTooLarge, "request body exceeds the size limit");
        }
        p.m_request.body.append(at, static_cast<qsizetype>(length));
        return 0;
    }

    static int onMessageComplete(http_parser *parser)
    {
        self(parser).m_messageComplete = true;
        // Stop after one message: pipelined requests wait until this one is answered.
        http_parser_pause(parser, 1);
        return 0;
    }

    static const http_parser_settings &settings()
    {
        static const http_parser_settings settings = [] {
            http_parser_settings s {};
            s.on_message_begin = &ParserCallbacks::onMessageBegin;
            s.on_url = &ParserCallbacks::onUrl;
            s.on_header_field = &ParserCallbacks::onHeaderField;
            s.on_header_value = &ParserCallbacks::onHeaderValue;
            s.on_headers_complete = &ParserCallbacks::onHeadersComplete;
            s.on_body = &ParserCallbacks::onBody;
            s.on_message_complete = &ParserCallbacks::onMessageComplete;
            return s;
        }();
        return settings;
    }
};

RequestParser::RequestParser(qint64 maxBodyBytes, qint64 maxHeaderBytes)
    : m_parser {std::make_unique<http_parser>()}
    , m_maxBodyBytes {maxBodyBytes}
    , m_maxHeaderBytes {maxHeaderBytes}
{
    http_parser_init(m_parser.get(), HTTP_REQUEST);
    m_parser->data = this;
}

RequestParser::~RequestParser() = default;

void RequestParser::resetMessage()
{
    m_request = Request {};
    m_url.clear();
    m_headerBytes = 0;
    m_declaredContentLength = -1;
    m_lastWasValue = false;
    m_started = false;
    m_headersComplete = false;
    m_messageComplete = false;
    m_expectContinue = false;
}

int RequestParser::fail(ErrorKind kind, const char *message)
{
    m_errorKind = kind;
    m_errorMessage = message;
    // Any value but 0, 1 and 2 stops http_parser with HPE_CB_*; 1 and 2 returned from
    // on_headers_complete would mean "no body follows" and must never be used here.
    return -1;
}

int RequestParser::onHeadersComplete()
{
    m_headersComplete = true;
    if (m_parser->http_major != 1) {
        return fail(ErrorKind::BadRequest, "only HTTP/1.0 and HTTP/1.1 are supported");
    }
    m_request.method = http_method_str(static_cast<http_method>(m_parser->method));
    m_request.versionMinor = m_parser->http_minor;
    m_request.keepAlive = http_should_keep_alive(m_parser.get()) != 0;

    http_parser_url url;
    http_parser_url_init(&url);
    if (http_parser_parse_url(m_url.constData(), static_cast<size_t>(m_url.size()), 0, &url) != 0) {
        return fail(ErrorKind::BadRequest, "invalid request target");
    }
    if (url.field_set & (1 << UF_PATH)) {
        m_request.path = m_url.mid(url.field_data[UF_PATH].off, url.field_data[UF_PATH].len);
    } else {
        m_request.path = "/";
    }
    if (url.field_set & (1 << UF_QUERY)) {
        m_request.query = m_url.mid(url.field_data[UF_QUERY].off, url.field_data[UF_QUERY].len);
    }

    // Framing rules against request smuggling (RFC 9112 section 6): a request with both
    // Content-Length and Transfer-Encoding, several differing Content-Lengths, or a
    // transfer coding other than a final "chunked" is refused, never guessed at.
    int contentLengthCount = 0;
    int transferEncodingCount = 0;
    bool hostSeen = false;
    QByteArray contentLength;
    for (auto &header : m_request.headers) {
        // In place (rvalue overloads reuse the buffer): a request carries a dozen headers.
        header.name = std::move(header.name).toLower();
        if (!header.value.isEmpty() && (QChar::isSpace(header.value.front()) || QChar::isSpace(header.value.back()))) {
            header.value = std::move(header.value).trimmed();
        }
        if (header.name == "content-length") {
            if (contentLengthCount > 0 && header.value != contentLength) {
                return fail(ErrorKind::BadRequest, "conflicting Content-Length headers");
            }
            ++contentLengthCount;
            contentLength = header.value;
        } else if (header.name == "transfer-encoding") {
            ++transferEncodingCount;
            const QByteArray coding = header.value.toLower();
            if (coding != "chunked") {
                if (coding.endsWith("chunked")) {
                    return fail(ErrorKind::UnsupportedCoding, "only the chunked transfer coding is supported");
                }
                return fail(ErrorKind::BadRequest, "Transfer-Encoding must end with chunked");
            }
        } else if (header.name == "host") {
            if (hostSeen) {
                return fail(ErrorKind::BadRequest, "more than one Host header");
            }
            hostSeen = true;
        } else if (header.name == "expect") {
            if (header.value.toLower() == "100-continue") {
                m_expectContinue = true;
            }
        }
    }
    if (transferEncodingCount > 1) {
        return fail(ErrorKind::BadRequest, "more than one Transfer-Encoding header");
    }
    if (transferEncodingCount > 0 && contentLengthCount > 0) {
        return fail(ErrorKind::BadRequest, "both Content-Length and Transfer-Encoding are present");
    }
    if (m_request.versionMinor >= 1 && !hostSeen) {
        return fail(ErrorKind::BadRequest, "missing Host header");
    }
    if (contentLengthCount > 0) {
        bool ok = false;
        const qint64 length = contentLength.toLongLong(&ok);
        if (!ok || length < 0 || contentLength.startsWith('+')) {
            return fail(ErrorKind::BadRequest, "invalid Content-Length");
        }
        m_declaredContentLength = length;
        if (length > m_maxBodyBytes) {
            return fail(ErrorKind::BodyTooLarge, "request body exceeds the size limit");
        }
        // Spare room lets the JSON inspector (simdjson) read the body in place.
        m_request.body.reserve(static_cast<qsizetype>(length) + 64);
    }
    return 0;
}

RequestParser::Result RequestParser::feed(const char *data, qsizetype size)
{
    if (m_errorKind != ErrorKind::None) {
        return {Status::Error, 0};
    }
    const size_t parsed = http_parser_execute(m_parser.get(), &ParserCallbacks::settings(), data, static_cast<size_t>(size));
    const auto error = static_cast<http_errno>(m_parser->http_errno);
    if (m_errorKind != ErrorKind::None) {
        return {Status::Error, static_cast<qsizetype>(parsed)};
    }
    if (m_messageComplete) {
        return {Status::Complete, static_cast<qsizetype>(parsed)};
    }
    if (error != HPE_OK) {
        if (m_errorKind == ErrorKind::None) {
            m_errorKind = error == HPE_HEADER_OVERFLOW ? ErrorKind::HeadersTooLarge : ErrorKind::BadRequest;
            m_errorMessage = QByteArray("malformed request: ") + http_errno_description(error);
        }
        return {Status::Error, static_cast<qsizetype>(parsed)};
    }
    return {Status::NeedMore, static_cast<qsizetype>(parsed)};
}

Request RequestParser::takeRequest()
{
    Request request = std::move(m_request);
    resetMessage();
    http_parser_pause(m_parser.get(), 0);
    return request;
}

} // namespace Gateway::Http
