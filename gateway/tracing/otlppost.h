#pragma once

#include <QByteArray>

#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace Gateway::Tracing {

// POSTs OTLP/JSON bodies to a collector with libcurl, for the span exporter's own
// thread only (it waits for the answer: never use it on an event loop or a worker).
// One easy handle in one multi handle, reused, so consecutive exports share a kept-alive
// connection. Not thread-safe.
class OtlpPost final {
public:
    struct Result {
        int status = 0;        // HTTP status; 0 when no answer arrived
        QByteArray errorText;  // curl's message when the transfer failed

        bool succeeded() const { return status >= 200 && status < 300; }
        // Worth sending again later (OTLP/HTTP spec: 429, 502, 503, 504, and no answer).
        bool retryable() const { return status == 0 || status == 429 || status == 502 || status == 503 || status == 504; }
    };

    OtlpPost();
    ~OtlpPost();
    OtlpPost(const OtlpPost &) = delete;
    OtlpPost &operator=(const OtlpPost &) = delete;

    // `headers` are extra "name: value" pairs (collector auth); the whole exchange is
    // bounded by `timeoutMs`, and given up early once `abandon` returns true (checked
    // every 100 ms: shutdown).
    Result post(const QByteArray &url, const std::vector<std::pair<QByteArray, QByteArray>> &headers,
                const QByteArray &body, int timeoutMs, const std::function<bool()> &abandon);

private:
    struct Handles;
    std::unique_ptr<Handles> m_handles;
};

} // namespace Gateway::Tracing
