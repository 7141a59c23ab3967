#pragma once

#include <cstddef>
#include <cstdint>

namespace Bench
{
    // Finds where one HTTP/1.1 response ends on a keep-alive connection, fed incrementally.
    // It understands exactly what keep-alive needs (status line, Content-Length, chunked
    // transfer coding, Connection: close, bodiless statuses, read-until-close) and never
    // copies body bytes: body data is consumed in place, so it does not allocate.
    class ResponseFramer final
    {
    public:
        enum class Status { NeedMore, Complete, Error };
        struct Result
        {
            Status status = Status::NeedMore;
            std::size_t consumed = 0;  // bytes of `data` that belong to this response
        };

        // Headers larger than this are treated as a broken peer, not buffered forever.
        static constexpr std::size_t kMaxHeaderBytes = 16 * 1024;

        void reset();
        // Unconsumed bytes must be presented again (with more appended) on the next call:
        // a header block or chunk-size line is only parsed once it is complete.
        Result feed(const char *data, std::size_t length);
        // The peer closed the connection. True when that ends the response (no framing).
        bool finishOnEof();

        int statusCode() const;
        bool keepAlive() const;
        bool inProgress() const;

    private:
        enum class State { Headers, FixedBody, ChunkSize, ChunkData, ChunkDataEnd, Trailers, UntilClose, Done };

        bool parseHeaders(const char *data, std::size_t length);

        State m_state = State::Headers;
        int m_statusCode = 0;
        bool m_keepAlive = true;
        bool m_started = false;
        std::uint64_t m_remaining = 0;
    };
}
