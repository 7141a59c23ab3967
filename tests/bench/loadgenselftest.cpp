// Checks the two pieces of switchyard-loadgen whose mistakes would silently skew results:
// response framing (a mis-framed response desynchronises a keep-alive connection) and
// percentile extraction. Plain C++ like the tool itself, so the bench stays Qt-free.

#include "latencyhistogram.h"
#include "responseframer.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace
{
    int g_failures = 0;

    void check(bool ok, const char *what)
    {
        if (!ok) {
            std::fprintf(stderr, "FAIL: %s\n", what);
            ++g_failures;
        }
    }

    // Feeds `wire` one byte at a time, the hardest split, keeping unconsumed bytes as the
    // load generator does. Returns the number of bytes that made up the response.
    Bench::ResponseFramer::Status feedBytewise(Bench::ResponseFramer &framer, const std::string &wire, std::size_t &used)
    {
        std::string pending;
        used = 0;
        for (const char c : wire) {
            pending += c;
            const auto r = framer.feed(pending.data(), pending.size());
            pending.erase(0, r.consumed);
            used += r.consumed;
            if (r.status != Bench::ResponseFramer::Status::NeedMore)
                return r.status;
        }
        return Bench::ResponseFramer::Status::NeedMore;
    }

    void testContentLength()
    {
        const std::string wire = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 5\r\n\r\nhelloEXTRA";
        Bench::ResponseFramer framer;
        const auto r = framer.feed(wire.data(), wire.size());
        check(r.status == Bench::ResponseFramer::Status::Complete, "content-length completes");
        check(r.consumed == wire.size() - 5, "content-length stops at the body end");
        check(framer.statusCode() == 200 && framer.keepAlive(), "content-length status and keep-alive");

        framer.reset();
        std::size_t used = 0;
        check(feedBytewise(framer, wire, used) == Bench::ResponseFramer::Status::Complete && used == wire.size() - 5,
              "content-length bytewise");
    }

    void testChunked()
    {
        const std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n";
        Bench::ResponseFramer framer;
        const auto r = framer.feed(wire.data(), wire.size());
        check(r.status == Bench::ResponseFramer::Status::Complete && r.consumed == wire.size(), "chunked completes");

        framer.reset();
        std::size_t used = 0;
        check(feedBytewise(framer, wire, used) == Bench::ResponseFramer::Status::Complete && used == wire.size(),
              "chunked bytewise");
    }

    void testCloseAndErrors()
    {
        Bench::ResponseFramer framer;
        const std::string close = "HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
        const auto r = framer.feed(close.data(), close.size());
        check(r.status == Bench::ResponseFramer::Status::Complete, "empty body completes");
        check(framer.statusCode() == 502 && !framer.keepAlive(), "connection close is seen");

        framer.reset();
        const std::string untilClose = "HTTP/1.0 200 OK\r\n\r\nbody";
        const auto u = framer.feed(untilClose.data(), untilClose.size());
        check(u.status == Bench::ResponseFramer::Status::NeedMore && framer.finishOnEof(), "read until close");

        framer.reset();
        const std::string interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
        const auto i = framer.feed(interim.data(), interim.size());
        check(i.status == Bench::ResponseFramer::Status::Complete && framer.statusCode() == 204, "1xx is skipped");

        framer.reset();
        const std::string garbage = "SSH-2.0-OpenSSH\r\n\r\n";
        check(framer.feed(garbage.data(), garbage.size()).status == Bench::ResponseFramer::Status::Error, "garbage");
    }

    void testHistogram()
    {
        Bench::LatencyHistogram h;
        for (std::uint64_t v = 1; v <= 100000; ++v)
            h.record(v * 1000);  // 1 us .. 100 ms, uniform
        const auto within = [](std::uint64_t got, std::uint64_t want) {
            return got >= want && static_cast<double>(got) <= static_cast<double>(want) * 1.004;
        };
        check(h.count() == 100000, "histogram count");
        check(within(h.valueAtPercentile(50), 50'000'000), "p50");
        check(within(h.valueAtPercentile(99), 99'000'000), "p99");
        check(h.valueAtPercentile(100) == 100'000'000 && h.max() == 100'000'000, "max is exact");
        Bench::LatencyHistogram small;
        small.record(7);
        check(small.valueAtPercentile(50) == 7, "small values are exact");
    }
}

int main()
{
    testContentLength();
    testChunked();
    testCloseAndErrors();
    testHistogram();
    if (g_failures == 0)
        std::puts("loadgen self-test: all checks passed");
    return g_failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
