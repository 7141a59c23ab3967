#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <cstdint>
#include <optional>
#include <span>
#include <utility>

namespace Gateway::Routing {

// The rate-limit state an upstream reported in one response. Every field is -1 when the
// response did not say (or said something malformed: such values are ignored, never
// thrown on). Durations are milliseconds from the moment the response was read.
//
// Understood headers (names lower-case):
//   OpenAI and compatibles: x-ratelimit-{remaining,limit}-{requests,tokens} (integers),
//     x-ratelimit-reset-{requests,tokens} (Go durations: "1s", "6m0s", "20ms", "1h2m3.5s").
//   Anthropic: anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{remaining,limit}
//     (integers), ...-reset (RFC 3339 timestamps). Several token buckets: the smallest
//     remaining wins, with that bucket's reset.
//   retry-after (delay-seconds or an HTTP-date), retry-after-ms (takes precedence).
struct RateLimitHeaders {
    std::int64_t remainingRequests = -1;
    std::int64_t remainingTokens = -1;
    std::int64_t limitRequests = -1;
    std::int64_t limitTokens = -1;
    qint64 resetRequestsMs = -1;
    qint64 resetTokensMs = -1;
    qint64 retryAfterMs = -1;

    bool isEmpty() const;

    // Feeds headers one at a time, so callers can walk their own header list without
    // copying it. `nowEpochMs` is the wall clock (ms since the Unix epoch), needed to turn
    // HTTP dates and RFC 3339 timestamps into delays.
    class Reader {
    public:
        explicit Reader(qint64 nowEpochMs);
        // Returns false when `lowerName` is not a rate-limit header (cheap prefix test).
        bool add(QByteArrayView lowerName, QByteArrayView value);
        RateLimitHeaders result() const;

    private:
        // One limit dimension as one provider reports it.
        struct Bucket {
            std::int64_t remaining = -1;
            std::int64_t limit = -1;
            qint64 resetMs = -1;
        };
        // Request buckets first, then token buckets: result() combines each contiguous range.
        enum BucketIndex { OpenAiRequests, Requests, OpenAiTokens, Tokens, InputTokens, OutputTokens, BucketCount };

        // `remaining` / `limit` fields, alike for both providers; false for other fields.
        static bool setCount(Bucket &bucket, QByteArrayView field, QByteArrayView value);
        static void combine(const Bucket *begin, const Bucket *end, std::int64_t &remaining, std::int64_t &limit,
                            qint64 &resetMs);

        qint64 m_nowEpochMs;
        Bucket m_buckets[BucketCount];
        qint64 m_retryAfterMs = -1;
        qint64 m_retryAfterMsHeader = -1;
    };

    using HeaderPair = std::pair<QByteArray, QByteArray>;
    static RateLimitHeaders parse(std::span<const HeaderPair> headers, qint64 nowEpochMs);

    // The value parsers, public for tests. std::nullopt = malformed.
    // Go time.Duration syntax, rounded up to whole ms (a reset must never be early).
    static std::optional<qint64> parseGoDurationMs(QByteArrayView text);
    // IMF-fixdate, RFC 850 or asctime (RFC 9110 section 5.6.7): ms since the epoch, UTC.
    static std::optional<qint64> parseHttpDateMs(QByteArrayView text);
    // RFC 3339 date-time with offset and optional fraction: ms since the epoch.
    static std::optional<qint64> parseRfc3339Ms(QByteArrayView text);
    // Non-negative decimal integer without sign or fraction.
    static std::optional<std::int64_t> parseCount(QByteArrayView text);
};

} // namespace Gateway::Routing
