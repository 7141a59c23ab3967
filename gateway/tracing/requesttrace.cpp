#include "requesttrace.h"

#include "genai.h"
#include "spanexporter.h"
#include "spanids.h"

#include "runtime/routetable.h"

#include <chrono>

namespace Gateway::Tracing {

namespace {

// W3C Trace Context caps tracestate at 32 list members; 512 bytes is what a vendor may
// rely on being propagated. A longer value is not forwarded at all rather than cut.
constexpr qsizetype MAX_TRACESTATE_BYTES = 512;

qint64 unixNanoNow()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

QByteArray kindName(RequestTrace::AttemptKind kind)
{
    switch (kind) {
    case RequestTrace::AttemptKind::First:
        return QByteArrayLiteral("first");
    case RequestTrace::AttemptKind::Retry:
        return QByteArrayLiteral("retry");
    case RequestTrace::AttemptKind::Fallback:
        return QByteArrayLiteral("fallback");
    case RequestTrace::AttemptKind::Hedge:
        return QByteArrayLiteral("hedge");
    case RequestTrace::AttemptKind::Resume:
        return QByteArrayLiteral("resume");
    case RequestTrace::AttemptKind::Prefill:
        return QByteArrayLiteral("prefill");
    }
    return {};
}

void setIfKnown(Span &span, const char *key, qint64 value)
{
    if (value >= 0) {
        span.set(key, value);
    }
}

void setIfKnown(Span &span, const char *key, const QByteArray &value)
{
    if (!value.isEmpty()) {
        span.set(key, value);
    }
}

} // namespace

std::unique_ptr<RequestTrace> RequestTrace::begin(SpanExporter &exporter, const Config::TracingSettings &settings,
                                                  const Http::Request &request, Start start)
{
    std::optional<TraceContext> parent = parseTraceparent(request.header("traceparent"));
    QByteArray tracestate;
    if (parent) {
        tracestate = request.header("tracestate").trimmed();
        if (tracestate.size() > MAX_TRACESTATE_BYTES || tracestate.contains('\r') || tracestate.contains('\n')) {
            tracestate.clear();
        }
    }
    // The caller's sampling decision is the trace's (a trace is whole or absent); a new
    // trace is sampled by its id, so gateways sharing a ratio agree.
    const TraceId traceId = parent ? parent->traceId : newTraceId();
    const bool recording = parent ? parent->sampled : sampledByRatio(traceId, settings.sampleRatio);
    if (!parent && !recording) {
        return nullptr;
    }
    return std::make_unique<RequestTrace>(exporter, parent, traceId, recording, std::move(tracestate), std::move(start));
}

RequestTrace::RequestTrace(SpanExporter &exporter, std::optional<TraceContext> parent, const TraceId &traceId,
                           bool recording, QByteArray tracestate, Start start)
    : m_exporter {exporter}
    , m_recording {recording}
    , m_parent {parent}
    , m_tracestate {std::move(tracestate)}
    , m_start {std::move(start)}
{
    m_serverContext.traceId = traceId;
    m_serverContext.spanId = recording ? newSpanId() : SpanId {};
    m_serverContext.sampled = recording;
    // The request began when its last byte arrived, a little before this object.
    const auto sinceReceived = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - m_start.receivedAt);
    m_startUnixNano = unixNanoNow() - sinceReceived.count();
}

RequestTrace::~RequestTrace() = default;

int RequestTrace::beginAttempt(const AttemptStart &start, std::vector<QByteArray> &headerLines)
{
    if (!m_recording) {
        // Not ours to record, but the caller's trace goes on upstream unchanged.
        headerLines.push_back("traceparent: " + m_parent->traceparent());
        if (!m_tracestate.isEmpty()) {
            headerLines.push_back("tracestate: " + m_tracestate);
        }
        return -1;
    }
    const Runtime::ProviderRuntime &provider = *start.provider;
    const Runtime::BackendRuntime &backend = *start.backend;
    const QByteArray operation = genAiOperation(m_start.endpoint);
    Attempt attempt;
    attempt.system = genAiSystem(provider.config.type);
    attempt.responseModel = backend.upstreamModel;
    Span &span = attempt.span;
    span.traceId = m_serverContext.traceId;
    span.spanId = newSpanId();
    span.parentSpanId = m_serverContext.spanId;
    span.kind = SpanKind::Client;
    span.name = operation + ' ' + backend.label;
    span.startUnixNano = unixNanoNow();
    span.attributes.reserve(20);
    span.set("gen_ai.operation.name", operation);
    span.set("gen_ai.system", attempt.system);
    span.set("gen_ai.request.model", backend.upstreamModel);
    if (m_start.maxTokens > 0 && start.kind != AttemptKind::Prefill) {
        span.set("gen_ai.request.max_tokens", qint64 {m_start.maxTokens});
    }
    ServerAddress server = serverAddressOf(provider.config.baseUrl);
    span.set("server.address", std::move(server.host));
    span.set("server.port", server.port);
    span.set("switchyard.route", start.route);
    span.set("switchyard.backend", backend.label);
    span.set("switchyard.attempt", static_cast<qint64>(m_attempts.size() + 1));
    span.set("switchyard.attempt.kind", kindName(start.kind));
    if (start.kind != AttemptKind::First && start.kind != AttemptKind::Prefill) {
        setIfKnown(span, "switchyard.retry_reason", m_lastFailure);
    }
    if (start.probe) {
        span.set("switchyard.health_probe", true);
    }
    if (start.predictedCachedTokens > 0) {
        span.set("switchyard.predicted_cached_tokens", qint64 {start.predictedCachedTokens});
    }
    const TraceContext attemptContext {span.traceId, span.spanId, true};
    headerLines.push_back("traceparent: " + attemptContext.traceparent());
    if (!m_tracestate.isEmpty()) {
        headerLines.push_back("tracestate: " + m_tracestate);
    }
    m_attempts.push_back(std::move(attempt));
    return static_cast<int>(m_attempts.size() - 1);
}

void RequestTrace::endAttempt(int handle, const AttemptEnd &end)
{
    if (handle < 0 || static_cast<std::size_t>(handle) >= m_attempts.size() || !m_attempts[static_cast<std::size_t>(handle)].open) {
        return;
    }
    Attempt &attempt = m_attempts[static_cast<std::size_t>(handle)];
    attempt.open = false;
    Span span = std::move(attempt.span);
    span.endUnixNano = unixNanoNow();
    if (end.status > 0) {
        span.set("http.response.status_code", qint64 {end.status});
    }
    if (end.ttftMs >= 0) {
        span.set("switchyard.ttft_ms", end.ttftMs);
    }
    if (end.cancelled) {
        span.set("switchyard.outcome", QByteArrayLiteral("cancelled"));
    } else if (end.failed) {
        // error.type: the status code for an HTTP error, else the failure class.
        const QByteArray type = end.status > 0 ? QByteArray::number(end.status) : end.errorType;
        span.set("error.type", type);
        span.set("switchyard.outcome", QByteArrayLiteral("failed"));
        span.status = StatusCode::Error;
        span.statusMessage = end.reason.isEmpty() ? end.errorType : end.reason;
        m_lastFailure = type + (end.reason.isEmpty() ? QByteArray() : ": " + end.reason.left(200));
    } else {
        span.set("switchyard.outcome", QByteArrayLiteral("ok"));
        setIfKnown(span, "gen_ai.usage.input_tokens", end.tokensIn);
        setIfKnown(span, "gen_ai.usage.output_tokens", end.tokensOut);
    }
    submit(std::move(span));
}

void RequestTrace::observeAnswer(QByteArrayView json)
{
    if (m_recording) {
        collectFinishReasons(json, m_finishReasons);
    }
}

void RequestTrace::finish(const Finish &finish)
{
    if (m_finished || !m_recording) {
        m_finished = true;
        return;
    }
    m_finished = true;
    for (std::size_t i = 0; i < m_attempts.size(); ++i) {
        if (m_attempts[i].open) {
            AttemptEnd end;
            end.cancelled = true;
            endAttempt(static_cast<int>(i), end);
        }
    }
    const QByteArray operation = genAiOperation(m_start.endpoint);
    Span span;
    span.traceId = m_serverContext.traceId;
    span.spanId = m_serverContext.spanId;
    if (m_parent) {
        span.parentSpanId = m_parent->spanId;
    }
    span.kind = SpanKind::Server;
    span.name = operation + ' ' + m_start.requestModel;
    span.startUnixNano = m_startUnixNano;
    span.endUnixNano = unixNanoNow();
    span.attributes.reserve(32);
    span.set("gen_ai.operation.name", operation);
    span.set("gen_ai.request.model", m_start.requestModel);
    if (m_start.maxTokens > 0) {
        span.set("gen_ai.request.max_tokens", qint64 {m_start.maxTokens});
    }
    if (finish.answeringAttempt >= 0 && static_cast<std::size_t>(finish.answeringAttempt) < m_attempts.size()) {
        const Attempt &answering = m_attempts[static_cast<std::size_t>(finish.answeringAttempt)];
        span.set("gen_ai.system", answering.system);
        span.set("gen_ai.response.model", answering.responseModel);
    }
    setIfKnown(span, "gen_ai.usage.input_tokens", finish.tokensIn);
    setIfKnown(span, "gen_ai.usage.output_tokens", finish.tokensOut);
    if (!m_finishReasons.empty()) {
        span.set("gen_ai.response.finish_reasons", m_finishReasons);
    }
    span.set("http.request.method", QByteArrayLiteral("POST"));
    if (finish.clientStatus > 0) {
        span.set("http.response.status_code", qint64 {finish.clientStatus});
    }
    span.set("switchyard.request_id", m_start.requestId);
    if (!m_start.virtualKey.isEmpty()) {
        span.set("switchyard.virtual_key", m_start.virtualKey.toUtf8());
    }
    span.set("switchyard.stream", m_start.stream);
    span.set("switchyard.route", finish.route);
    const RouteReasonFields reason = routeReasonFields(finish.routeReason);
    setIfKnown(span, "switchyard.strategy", reason.strategy);
    setIfKnown(span, "switchyard.candidate_scores", reason.scores);
    setIfKnown(span, "switchyard.candidate_order", reason.order);
    setIfKnown(span, "switchyard.session_affinity", reason.session);
    setIfKnown(span, "switchyard.route_reason", finish.routeReason);
    setIfKnown(span, "switchyard.pd_decision", finish.pdDecision);
    setIfKnown(span, "switchyard.backend", finish.backend);
    span.set("switchyard.attempts", qint64 {finish.attempts});
    setIfKnown(span, "switchyard.cached_input_tokens", finish.cachedTokensIn);
    setIfKnown(span, "switchyard.queue_wait_ms", finish.queueWaitMs);
    if (finish.ttftMs >= 0) {
        span.set("switchyard.ttft_ms", finish.ttftMs);
    }
    if (finish.failed) {
        span.set("error.type", finish.errorType);
        span.status = StatusCode::Error;
        span.statusMessage = finish.errorMessage.isEmpty() ? finish.errorType : finish.errorMessage;
    }
    submit(std::move(span));
}

void RequestTrace::submit(Span &&span)
{
    m_exporter.submit(std::move(span));
}

} // namespace Gateway::Tracing
