#pragma once

#include "config/policy.h"
#include "http/request.h"
#include "runtime/endpoint.h"
#include "span.h"

#include <QByteArray>
#include <QString>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

namespace Gateway::Runtime {
struct BackendRuntime;
struct ProviderRuntime;
} // namespace Gateway::Runtime

namespace Gateway::Tracing {

class SpanExporter;

// The trace of one client request while the proxy answers it: a SERVER span for the
// request and a CLIENT child span per upstream attempt (retries, fallbacks, hedges,
// stream resumptions and P/D prefill steps alike), each attempt carrying a traceparent
// that names its own span so tracing upstream servers join the trace. Spans go to the
// exporter as they end. Lives on the request's worker thread, owned by its exchange;
// exists only for requests that are traced, or that forward a caller's unsampled
// traceparent.
class RequestTrace final {
public:
    using Clock = std::chrono::steady_clock;

    struct Start {
        Runtime::Endpoint endpoint = Runtime::Endpoint::ChatCompletions;
        QByteArray requestModel; // as the client asked
        int maxTokens = 0;       // 0 = not set
        bool stream = false;
        QByteArray requestId;
        QString virtualKey;
        Clock::time_point receivedAt;
    };

    // Joins the caller's trace when the request carries a valid traceparent (its sampled
    // flag decides), else starts one that `settings.sampleRatio` samples. Null when there
    // is nothing to record or forward.
    static std::unique_ptr<RequestTrace> begin(SpanExporter &exporter, const Config::TracingSettings &settings,
                                               const Http::Request &request, Start start);

    RequestTrace(SpanExporter &exporter, std::optional<TraceContext> parent, const TraceId &traceId, bool recording,
                 QByteArray tracestate, Start start);
    ~RequestTrace();
    RequestTrace(const RequestTrace &) = delete;
    RequestTrace &operator=(const RequestTrace &) = delete;

    bool recording() const { return m_recording; }
    const TraceId &traceId() const { return m_serverContext.traceId; }

    enum class AttemptKind { First, Retry, Fallback, Hedge, Resume, Prefill };
    struct AttemptStart {
        const Runtime::ProviderRuntime *provider = nullptr;
        const Runtime::BackendRuntime *backend = nullptr;
        QByteArray route; // the route whose plan the attempt belongs to
        AttemptKind kind = AttemptKind::First;
        bool probe = false;
        int predictedCachedTokens = 0; // the strategy's KV-cache guess
    };
    // Opens an attempt's span and adds its traceparent (and the caller's tracestate) to
    // `headerLines`. Returns the attempt's handle for endAttempt(); -1 when not recording.
    int beginAttempt(const AttemptStart &start, std::vector<QByteArray> &headerLines);

    struct AttemptEnd {
        int status = 0;          // upstream HTTP status; 0 = none arrived
        bool failed = false;
        bool cancelled = false;  // abandoned: the client left, or a hedge lost
        QByteArray errorType;    // error class name, when failed
        QByteArray reason;       // what went wrong, when failed
        double ttftMs = -1;
        qint64 tokensIn = -1;
        qint64 tokensOut = -1;
    };
    void endAttempt(int handle, const AttemptEnd &end);

    // An answer body or stream event: collects its finish reasons.
    void observeAnswer(QByteArrayView json);

    struct Finish {
        int clientStatus = 0;
        bool failed = false;
        QByteArray errorType;
        QByteArray errorMessage;
        QByteArray route; // the route that served (rules and splits may have moved it)
        QByteArray routeReason;
        QByteArray pdDecision;
        QByteArray backend;      // the last backend tried; empty = none
        int answeringAttempt = -1; // its handle, when it answered
        int attempts = 0;
        qint64 tokensIn = -1;
        qint64 tokensOut = -1;
        qint64 cachedTokensIn = -1;
        double ttftMs = -1;
        qint64 queueWaitMs = -1;
    };
    // Ends the request's span (and any attempt still open, as cancelled). Once.
    void finish(const Finish &finish);

private:
    struct Attempt {
        Span span;
        bool open = true;
        QByteArray system;
        QByteArray responseModel;
    };

    void submit(Span &&span);

    SpanExporter &m_exporter;
    bool m_recording;
    bool m_finished = false;
    std::optional<TraceContext> m_parent; // the caller's, when it sent one
    TraceContext m_serverContext;         // this request's span
    QByteArray m_tracestate;
    Start m_start;
    qint64 m_startUnixNano = 0;
    std::vector<Attempt> m_attempts;
    QByteArray m_lastFailure; // why the previous attempt failed: the next one's reason
    std::vector<QByteArray> m_finishReasons;
};

} // namespace Gateway::Tracing
