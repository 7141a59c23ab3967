#include "responseframer.h"

#include "headermatch.h"

#include <climits>

namespace Gateway::Upstream {

// http-parser's C callbacks, forwarding to the framer. Any value but 0, 1 and 2 stops
// http_parser_execute with an HPE_CB_* error; the framer records why first.
struct ResponseFramerCallbacks {
    static ResponseFramer &self(http_parser *parser) { return *static_cast<ResponseFramer *>(parser->data); }

    static int onMessageBegin(http_parser *parser)
    {
        self(parser).beginMessage();
        return 0;
    }

    static int onHeaderField(http_parser *parser, const char *at, size_t length)
    {
        ResponseFramer &f = self(parser);
        if (f.m_headComplete) {
            return 0; // a trailer field after a chunked body: not used
        }
        if (f.m_inValue) {
            f.endHeader();
        }
        f.m_field.append(at, length);
        return 0;
    }

    static int onHeaderValue(http_parser *parser, const char *at, size_t length)
    {
        ResponseFramer &f = self(parser);
        if (f.m_headComplete) {
            return 0;
        }
        f.m_inValue = true;
        f.m_value.append(at, length);
        return 0;
    }

    static int onHeadersComplete(http_parser *parser) { return self(parser).onHeadersComplete(); }

    static int onBody(http_parser *parser, const char *at, size_t length)
    {
        ResponseFramer &f = self(parser);
        f.m_bodyFramed = true;
        if (!f.m_sink->onBody(QByteArrayView {at, static_cast<qsizetype>(length)})) {
            f.m_error = ResponseFramer::Error::Aborted;
            return -1;
        }
        // Paused: stop here, unless this slice ends a Content-Length body (which then
        // completes, paused or not).
        const bool lengthDone = !(parser->flags & F_CHUNKED) && parser->content_length == 0;
        if (f.m_sink->paused() && !lengthDone) {
            http_parser_pause(parser, 1);
        }
        return 0;
    }

    static int onMessageComplete(http_parser *parser)
    {
        ResponseFramer &f = self(parser);
        if (f.m_interim) {
            f.m_restart = true; // the real response follows, on a fresh parser
        } else {
            f.m_complete = true;
        }
        // Bytes after the response are not this response's.
        http_parser_pause(parser, 1);
        return 0;
    }

    static const http_parser_settings &settings()
    {
        static const http_parser_settings settings = [] {
            http_parser_settings s {};
            s.on_message_begin = &onMessageBegin;
            s.on_header_field = &onHeaderField;
            s.on_header_value = &onHeaderValue;
            s.on_headers_complete = &onHeadersComplete;
            s.on_body = &onBody;
            s.on_message_complete = &onMessageComplete;
            return s;
        }();
        return settings;
    }
};

namespace {

void initParser(http_parser &parser, void *owner)
{
    http_parser_init(&parser, HTTP_RESPONSE);
    parser.data = owner;
    // "Transfer-Encoding: chunked" with a Content-Length: chunked wins (RFC 9112 6.3).
    parser.allow_chunked_length = 1;
}

} // namespace

void ResponseFramer::Piece::clear()
{
    data = nullptr;
    size = 0;
    owned.clear();
    isOwned = false;
}

void ResponseFramer::Piece::append(const char *at, std::size_t length)
{
    if (isOwned) {
        owned.append(at, length);
    } else if (size == 0) {
        data = at;
        size = length;
    } else {
        keep();
        owned.append(at, length);
    }
}

void ResponseFramer::Piece::keep()
{
    if (!isOwned && size > 0) {
        owned.assign(data, size);
        isOwned = true;
    }
}

QByteArrayView ResponseFramer::Piece::view() const
{
    return isOwned ? QByteArrayView {owned.data(), static_cast<qsizetype>(owned.size())}
                   : QByteArrayView {data, static_cast<qsizetype>(size)};
}

ResponseFramer::ResponseFramer()
{
    initParser(m_parser, this);
}

void ResponseFramer::start(Sink &sink)
{
    initParser(m_parser, this);
    m_sink = &sink;
    m_headers.clear();
    m_field.clear();
    m_value.clear();
    m_inValue = false;
    m_connectionToken = 0;
    m_status = 0;
    m_headBytes = 0;
    m_error = Error::None;
    m_headComplete = false;
    m_interim = false;
    m_restart = false;
    m_complete = false;
    m_keepAlive = false;
    m_bodyFramed = false;
}

void ResponseFramer::beginMessage()
{
    m_headers.clear();
    m_field.clear();
    m_value.clear();
    m_inValue = false;
    m_connectionToken = 0;
    m_interim = false;
}

void ResponseFramer::endHeader()
{
    const QByteArrayView name = m_field.view();
    const QByteArrayView value = m_value.view().trimmed();
    if (equalsIgnoringCase(name, "connection")) {
        qsizetype start = 0;
        while (start <= value.size()) {
            qsizetype comma = value.indexOf(',', start);
            if (comma < 0) {
                comma = value.size();
            }
            const QByteArrayView token = value.sliced(start, comma - start).trimmed();
            if (equalsIgnoringCase(token, "close")) {
                m_connectionToken = 1;
            } else if (equalsIgnoringCase(token, "keep-alive")) {
                m_connectionToken = 2;
            }
            start = comma + 1;
        }
    } else if (isKeptResponseHeader(name)) {
        Http::Header header;
        header.name = name.toByteArray().toLower();
        header.value = value.toByteArray();
        m_headers.push_back(std::move(header));
    }
    m_field.clear();
    m_value.clear();
    m_inValue = false;
}

int ResponseFramer::onHeadersComplete()
{
    if (m_inValue) {
        endHeader();
    }
    if (m_parser.http_major != 1) {
        m_error = Error::MalformedHead;
        return -1;
    }
    const int status = static_cast<int>(m_parser.status_code);
    if (status >= 100 && status < 200) {
        if (status == 101) {
            m_error = Error::Upgrade;
            return -1;
        }
        m_interim = true; // no body; the real response follows
        return 1;
    }
    const bool chunked = (m_parser.flags & F_CHUNKED) != 0;
    const bool noBody = status == 204 || status == 304;
    const bool untilClose =
        !noBody && !chunked && (m_parser.uses_transfer_encoding || m_parser.content_length == ULLONG_MAX);
    const bool emptyBody = noBody || (!chunked && !untilClose && m_parser.content_length == 0);
    m_keepAlive = m_connectionToken == 0 ? m_parser.http_minor != 0 : m_connectionToken == 2;
    if (untilClose) {
        m_keepAlive = false;
    }
    m_status = status;
    m_headComplete = true;
    m_sink->onHead(status, m_headers);
    if (m_sink->paused() && !emptyBody) {
        http_parser_pause(&m_parser, 1);
    }
    return noBody ? 1 : 0; // 1: no body whatever the headers say
}

qsizetype ResponseFramer::feed(QByteArrayView data)
{
    m_bodyFramed = false;
    qsizetype used = 0;
    while (used < data.size() && !m_complete && m_error == Error::None) {
        const bool inHead = !m_headComplete;
        const size_t n = http_parser_execute(&m_parser, &ResponseFramerCallbacks::settings(), data.data() + used,
                                             static_cast<size_t>(data.size() - used));
        used += static_cast<qsizetype>(n);
        if (inHead && !m_headComplete) {
            m_headBytes += static_cast<qsizetype>(n);
        }
        const auto code = HTTP_PARSER_ERRNO(&m_parser);
        if (code == HPE_PAUSED) {
            http_parser_pause(&m_parser, 0);
            if (m_restart) {
                // An interim response ended: the next bytes start the final one.
                initParser(m_parser, this);
                m_restart = false;
                m_headBytes = 0;
                continue;
            }
            break; // complete, or the sink paused
        }
        if (code != HPE_OK) {
            if (m_error == Error::None) {
                m_error = code == HPE_HEADER_OVERFLOW ? Error::HeadTooLarge
                          : m_headComplete            ? Error::MalformedBody
                                                      : Error::MalformedHead;
            }
            break;
        }
        if (n == 0) {
            break;
        }
    }
    if (!m_headComplete && m_error == Error::None) {
        // A header split across reads: its first part is about to be overwritten.
        m_field.keep();
        m_value.keep();
    }
    return used;
}

void ResponseFramer::feedEof()
{
    if (m_complete || m_error != Error::None) {
        return;
    }
    // Completes a close-delimited body; any other state is an error.
    http_parser_execute(&m_parser, &ResponseFramerCallbacks::settings(), nullptr, 0);
    if (HTTP_PARSER_ERRNO(&m_parser) == HPE_PAUSED) {
        http_parser_pause(&m_parser, 0);
    }
    if (!m_complete) {
        m_error = Error::Truncated;
    }
}

} // namespace Gateway::Upstream
