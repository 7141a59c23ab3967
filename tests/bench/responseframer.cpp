#include "responseframer.h"

#include <cstring>
#include <string_view>

namespace Bench
{
    namespace
    {
        bool equalsIgnoreCase(std::string_view a, std::string_view b)
        {
            if (a.size() != b.size())
                return false;
            for (std::size_t i = 0; i < a.size(); ++i) {
                char x = a[i];
                char y = b[i];
                if (x >= 'A' && x <= 'Z')
                    x = static_cast<char>(x - 'A' + 'a');
                if (y >= 'A' && y <= 'Z')
                    y = static_cast<char>(y - 'A' + 'a');
                if (x != y)
                    return false;
            }
            return true;
        }

        bool containsTokenIgnoreCase(std::string_view value, std::string_view token)
        {
            for (std::size_t i = 0; i + token.size() <= value.size(); ++i) {
                if (equalsIgnoreCase(value.substr(i, token.size()), token))
                    return true;
            }
            return false;
        }

        std::string_view trim(std::string_view s)
        {
            while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
                s.remove_prefix(1);
            while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
                s.remove_suffix(1);
            return s;
        }

        // Position just past the first CRLF in data, or npos.
        std::size_t lineEnd(const char *data, std::size_t length)
        {
            const void *lf = std::memchr(data, '\n', length);
            if (lf == nullptr)
                return std::string_view::npos;
            return static_cast<std::size_t>(static_cast<const char *>(lf) - data) + 1;
        }

        std::size_t headerBlockEnd(const char *data, std::size_t length)
        {
            const std::string_view view(data, length);
            const std::size_t pos = view.find("\r\n\r\n");
            return pos == std::string_view::npos ? pos : pos + 4;
        }
    }

    void ResponseFramer::reset()
    {
        m_state = State::Headers;
        m_statusCode = 0;
        m_keepAlive = true;
        m_started = false;
        m_remaining = 0;
    }

    int ResponseFramer::statusCode() const
    {
        return m_statusCode;
    }

    bool ResponseFramer::keepAlive() const
    {
        return m_keepAlive;
    }

    bool ResponseFramer::inProgress() const
    {
        return m_started && m_state != State::Done;
    }

    bool ResponseFramer::finishOnEof()
    {
        if (m_state != State::UntilClose)
            return false;
        m_state = State::Done;
        m_keepAlive = false;
        return true;
    }

    bool ResponseFramer::parseHeaders(const char *data, std::size_t length)
    {
        std::string_view block(data, length);
        const std::size_t firstEnd = block.find("\r\n");
        const std::string_view statusLine = block.substr(0, firstEnd);
        // "HTTP/1.x SSS reason"
        if (statusLine.size() < 12 || statusLine.substr(0, 7) != "HTTP/1." || statusLine[8] != ' ')
            return false;
        int code = 0;
        for (std::size_t i = 9; i < 12; ++i) {
            if (statusLine[i] < '0' || statusLine[i] > '9')
                return false;
            code = code * 10 + (statusLine[i] - '0');
        }
        m_statusCode = code;
        m_keepAlive = statusLine[7] == '1';  // HTTP/1.0 closes unless told otherwise

        bool chunked = false;
        bool haveLength = false;
        std::uint64_t contentLength = 0;
        block.remove_prefix(firstEnd + 2);
        while (!block.empty()) {
            const std::size_t end = block.find("\r\n");
            const std::string_view line = block.substr(0, end);
            block.remove_prefix(end == std::string_view::npos ? block.size() : end + 2);
            if (line.empty())
                break;
            const std::size_t colon = line.find(':');
            if (colon == std::string_view::npos)
                return false;
            const std::string_view name = line.substr(0, colon);
            const std::string_view value = trim(line.substr(colon + 1));
            if (equalsIgnoreCase(name, "content-length")) {
                if (value.empty())
                    return false;
                contentLength = 0;
                for (const char c : value) {
                    if (c < '0' || c > '9')
                        return false;
                    contentLength = contentLength * 10 + static_cast<std::uint64_t>(c - '0');
                }
                haveLength = true;
            } else if (equalsIgnoreCase(name, "transfer-encoding")) {
                chunked = containsTokenIgnoreCase(value, "chunked");
            } else if (equalsIgnoreCase(name, "connection")) {
                if (containsTokenIgnoreCase(value, "close"))
                    m_keepAlive = false;
                else if (containsTokenIgnoreCase(value, "keep-alive"))
                    m_keepAlive = true;
            }
        }

        if ((code >= 100 && code < 200) || code == 204 || code == 304) {
            m_state = State::Done;
        } else if (chunked) {
            m_state = State::ChunkSize;
        } else if (haveLength) {
            m_remaining = contentLength;
            m_state = contentLength == 0 ? State::Done : State::FixedBody;
        } else {
            m_state = State::UntilClose;
            m_keepAlive = false;
        }
        return true;
    }

    ResponseFramer::Result ResponseFramer::feed(const char *data, std::size_t length)
    {
        std::size_t pos = 0;
        while (true) {
            const char *at = data + pos;
            const std::size_t left = length - pos;
            switch (m_state) {
            case State::Headers: {
                if (left == 0)
                    return {Status::NeedMore, pos};
                m_started = true;
                const std::size_t end = headerBlockEnd(at, left);
                if (end == std::string_view::npos)
                    return {left > kMaxHeaderBytes ? Status::Error : Status::NeedMore, pos};
                if (!parseHeaders(at, end))
                    return {Status::Error, pos};
                pos += end;
                // An interim 1xx response is followed by the real one on the same stream.
                if (m_statusCode >= 100 && m_statusCode < 200) {
                    m_state = State::Headers;
                    m_started = false;
                }
                break;
            }
            case State::FixedBody: {
                const std::uint64_t take = left < m_remaining ? left : m_remaining;
                pos += static_cast<std::size_t>(take);
                m_remaining -= take;
                if (m_remaining != 0)
                    return {Status::NeedMore, pos};
                m_state = State::Done;
                break;
            }
            case State::ChunkSize: {
                const std::size_t end = lineEnd(at, left);
                if (end == std::string_view::npos)
                    return {left > kMaxHeaderBytes ? Status::Error : Status::NeedMore, pos};
                std::uint64_t size = 0;
                std::size_t digits = 0;
                for (std::size_t i = 0; i < end; ++i) {
                    const char c = at[i];
                    int v = -1;
                    if (c >= '0' && c <= '9')
                        v = c - '0';
                    else if (c >= 'a' && c <= 'f')
                        v = c - 'a' + 10;
                    else if (c >= 'A' && c <= 'F')
                        v = c - 'A' + 10;
                    if (v < 0)
                        break;  // chunk extension or CRLF
                    if (++digits > 15)
                        return {Status::Error, pos};
                    size = size * 16 + static_cast<std::uint64_t>(v);
                }
                if (digits == 0)
                    return {Status::Error, pos};
                pos += end;
                m_remaining = size;
                m_state = size == 0 ? State::Trailers : State::ChunkData;
                break;
            }
            case State::ChunkData: {
                const std::uint64_t take = left < m_remaining ? left : m_remaining;
                pos += static_cast<std::size_t>(take);
                m_remaining -= take;
                if (m_remaining != 0)
                    return {Status::NeedMore, pos};
                m_state = State::ChunkDataEnd;
                break;
            }
            case State::ChunkDataEnd: {
                if (left < 2)
                    return {Status::NeedMore, pos};
                if (at[0] != '\r' || at[1] != '\n')
                    return {Status::Error, pos};
                pos += 2;
                m_state = State::ChunkSize;
                break;
            }
            case State::Trailers: {
                // Trailer lines until an empty line.
                const std::size_t end = lineEnd(at, left);
                if (end == std::string_view::npos)
                    return {left > kMaxHeaderBytes ? Status::Error : Status::NeedMore, pos};
                pos += end;
                if (end <= 2)
                    m_state = State::Done;
                break;
            }
            case State::UntilClose:
                return {Status::NeedMore, length};
            case State::Done:
                return {Status::Complete, pos};
            }
        }
    }
}
