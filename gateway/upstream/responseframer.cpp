#include "responseframer.h"

#include "headermatch.h"

#include <algorithm>

namespace Gateway::Upstream {

void ResponseFramer::start(Sink &sink)
{
    m_sink = &sink;
    m_headers.clear();
    m_framing = Framing::Length;
    m_chunk = Chunk::Size;
    m_remaining = 0;
    m_status = 0;
    m_error = Error::None;
    m_headComplete = false;
    m_complete = false;
    m_keepAlive = false;
    m_bodyFramed = false;
}

qsizetype ResponseFramer::feed(QByteArrayView data)
{
    m_bodyFramed = false;
    qsizetype used = 0;
    while (!m_headComplete) {
        const QByteArrayView input = data.sliced(used);
        bool interim = false;
        const qsizetype length = readHead(input, interim);
        if (length <= 0) {
            return used;
        }
        used += length;
        if (interim) {
            continue; // the real response follows
        }
        m_headComplete = true;
        m_sink->onHead(m_status, m_headers);
        if (m_framing == Framing::None) {
            m_complete = true;
            return used;
        }
    }
    if (used < data.size()) {
        m_bodyFramed = true;
    }
    return used + frameBody(data.sliced(used));
}

qsizetype ResponseFramer::readHead(QByteArrayView input, bool &interim)
{
    qsizetype headLength = -1;
    for (qsizetype i = input.indexOf('\n'); i >= 0; i = input.indexOf('\n', i + 1)) {
        if (i + 1 < input.size() && input[i + 1] == '\n') {
            headLength = i + 2;
            break;
        }
        if (i + 2 < input.size() && input[i + 1] == '\r' && input[i + 2] == '\n') {
            headLength = i + 3;
            break;
        }
    }
    if (headLength < 0) {
        if (input.size() > MAX_HEAD_BYTES) {
            m_error = Error::HeadTooLarge;
            return -1;
        }
        return 0;
    }
    const QByteArrayView headText = input.first(headLength);
    qsizetype lineEnd = headText.indexOf('\n');
    QByteArrayView statusLine = headText.first(lineEnd);
    if (statusLine.endsWith('\r')) {
        statusLine.chop(1);
    }
    // "HTTP/1.x SSS reason"
    if (statusLine.size() < 12 || !statusLine.startsWith("HTTP/1.") || statusLine[8] != ' ' ||
        (statusLine.size() > 12 && statusLine[12] != ' ')) {
        m_error = Error::MalformedHead;
        return -1;
    }
    int status = 0;
    for (qsizetype i = 9; i < 12; ++i) {
        if (statusLine[i] < '0' || statusLine[i] > '9') {
            m_error = Error::MalformedHead;
            return -1;
        }
        status = status * 10 + (statusLine[i] - '0');
    }
    const bool http10 = statusLine[7] == '0';
    bool keepAlive = !http10;
    bool chunked = false;
    qint64 contentLength = -1;
    m_headers.clear();
    qsizetype lineStart = lineEnd + 1;
    while (lineStart < headLength) {
        lineEnd = headText.indexOf('\n', lineStart);
        QByteArrayView line = headText.sliced(lineStart, lineEnd - lineStart);
        lineStart = lineEnd + 1;
        if (line.endsWith('\r')) {
            line.chop(1);
        }
        const qsizetype colon = line.indexOf(':');
        if (line.isEmpty() || colon <= 0) {
            continue;
        }
        const QByteArrayView name = line.first(colon);
        const QByteArrayView value = line.sliced(colon + 1).trimmed();
        if (equalsIgnoringCase(name, "content-length")) {
            bool ok = !value.isEmpty();
            qint64 length = 0;
            for (const char c : value) {
                ok = ok && c >= '0' && c <= '9' && length < (Q_INT64_C(1) << 56);
                length = length * 10 + (c - '0');
            }
            if (!ok || (contentLength >= 0 && contentLength != length)) {
                m_error = Error::MalformedHead;
                return -1;
            }
            contentLength = length;
        } else if (equalsIgnoringCase(name, "transfer-encoding")) {
            const qsizetype comma = value.lastIndexOf(',');
            chunked = equalsIgnoringCase(comma < 0 ? value : value.sliced(comma + 1).trimmed(), "chunked");
        } else if (equalsIgnoringCase(name, "connection")) {
            for (QByteArrayView token : QByteArray(value.toByteArray()).split(',')) {
                token = token.trimmed();
                if (equalsIgnoringCase(token, "close")) {
                    keepAlive = false;
                } else if (equalsIgnoringCase(token, "keep-alive")) {
                    keepAlive = true;
                }
            }
        }
        if (isKeptResponseHeader(name)) {
            Http::Header header;
            header.name = name.toByteArray().toLower();
            header.value = value.toByteArray();
            m_headers.push_back(std::move(header));
        }
    }
    if (status >= 100 && status < 200) {
        if (status == 101) {
            m_error = Error::Upgrade;
            return -1;
        }
        m_headers.clear();
        interim = true;
        return headLength;
    }
    m_keepAlive = keepAlive;
    if (status == 204 || status == 304) {
        m_framing = Framing::None;
    } else if (chunked) {
        m_framing = Framing::Chunked;
        m_chunk = Chunk::Size;
    } else if (contentLength >= 0) {
        m_framing = contentLength == 0 ? Framing::None : Framing::Length;
        m_remaining = contentLength;
    } else {
        m_framing = Framing::UntilClose;
        m_keepAlive = false;
    }
    m_status = status;
    return headLength;
}

qsizetype ResponseFramer::frameBody(QByteArrayView input)
{
    qsizetype used = 0;
    const auto deliver = [&](qsizetype take) {
        const char *data = input.data() + used;
        used += take;
        if (!m_sink->onBody(QByteArrayView {data, take})) {
            m_error = Error::Aborted;
            return false;
        }
        return true;
    };
    while (!m_sink->paused()) {
        const qsizetype buffered = input.size() - used;
        switch (m_framing) {
        case Framing::Length: {
            const qsizetype take = static_cast<qsizetype>(std::min<qint64>(m_remaining, buffered));
            if (take > 0) {
                m_remaining -= take;
                if (!deliver(take)) {
                    return used;
                }
            }
            // A Content-Length body completes with its last byte, paused or not.
            m_complete = m_remaining == 0;
            return used;
        }
        case Framing::UntilClose:
            if (buffered > 0) {
                if (!deliver(buffered)) {
                    return used;
                }
                continue; // re-check pause
            }
            return used;
        case Framing::Chunked: {
            if (m_chunk == Chunk::Data) {
                const qsizetype take = static_cast<qsizetype>(std::min<qint64>(m_remaining, buffered));
                if (take > 0) {
                    m_remaining -= take;
                    if (!deliver(take)) {
                        return used;
                    }
                }
                if (m_remaining == 0) {
                    m_chunk = Chunk::DataEnd;
                    continue;
                }
                return used;
            }
            // Size, DataEnd and Trailer work on whole lines.
            const QByteArrayView rest = input.sliced(used);
            const qsizetype newline = rest.indexOf('\n');
            if (newline < 0) {
                if (rest.size() > MAX_HEAD_BYTES) {
                    m_error = Error::MalformedBody;
                }
                return used;
            }
            QByteArrayView line = rest.first(newline);
            if (line.endsWith('\r')) {
                line.chop(1);
            }
            used += newline + 1;
            if (m_chunk == Chunk::DataEnd) {
                if (!line.isEmpty()) {
                    m_error = Error::MalformedBody;
                    return used;
                }
                m_chunk = Chunk::Size;
                continue;
            }
            if (m_chunk == Chunk::Trailer) {
                if (line.isEmpty()) {
                    m_complete = true;
                    return used;
                }
                continue; // trailer fields are not used
            }
            // Size line: hex digits, then optional extensions after ';'.
            qint64 size = 0;
            qsizetype digits = 0;
            for (; digits < line.size(); ++digits) {
                const char c = line[digits];
                int value = -1;
                if (c >= '0' && c <= '9') {
                    value = c - '0';
                } else if (c >= 'a' && c <= 'f') {
                    value = c - 'a' + 10;
                } else if (c >= 'A' && c <= 'F') {
                    value = c - 'A' + 10;
                } else {
                    break;
                }
                if (size >= (Q_INT64_C(1) << 56)) {
                    m_error = Error::MalformedBody;
                    return used;
                }
                size = size * 16 + value;
            }
            const QByteArrayView extensions = line.sliced(digits).trimmed();
            if (digits == 0 || (!extensions.isEmpty() && !extensions.startsWith(';'))) {
                m_error = Error::MalformedBody;
                return used;
            }
            if (size == 0) {
                m_chunk = Chunk::Trailer;
            } else {
                m_chunk = Chunk::Data;
                m_remaining = size;
            }
            continue;
        }
        case Framing::None:
            m_complete = true;
            return used;
        }
    }
    // Paused with bytes still buffered: the caller feeds them again once resumed.
    return used;
}

void ResponseFramer::feedEof()
{
    if (m_complete || m_error != Error::None) {
        return;
    }
    if (m_framing == Framing::UntilClose) {
        m_complete = true; // a close-delimited body ends here
    } else {
        m_error = Error::Truncated;
    }
}

} // namespace Gateway::Upstream
