#include "proxyexchange.h"

#include "bodyrewriter.h"
#include "disaggregatedprefill.h"
#include "kvtransferbody.h"
#include "hedgeattempt.h"
#include "runtime/eventkinds.h"
#include "runtime/routingregistry.h"
#include "upstreamrefusal.h"
#include "routing/keypool.h"
#include "routing/ratelimitheaders.h"
#include "routing/retrybudget.h"
#include "runtime/backendmonitor.h"
#include "translate/requesttranslation.h"
#include "translate/responsetranslation.h"
#include "util/jsonwriter.h"
#include "workercontext.h"

#include <QDateTime>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <utility>

namespace Gateway::Proxy {

namespace {

using Metrics::ErrorClass;
using Gateway::RequestLogEntry;
using Gateway::RequestLogSink;

// A non-streamed answer larger than this is refused rather than held in memory.
constexpr qsizetype MAX_BUFFERED_RESPONSE_BYTES = 64 * 1024 * 1024;
// Upstream error bodies are kept up to this size, for pass-through or for messages.
constexpr qsizetype MAX_ERROR_BODY_BYTES = 64 * 1024;
constexpr qsizetype ERROR_SNIPPET_BYTES = 300;
constexpr qint64 STREAM_HIGH_WATER_BYTES = 1024 * 1024;
constexpr const char *DEFAULT_ANTHROPIC_VERSION = "2023-06-01";
// A stream is continued on another target at most this often before it is given up.
constexpr int MAX_STREAM_RESUMPTIONS = 2;
// Prefill servers a disaggregated request tries before it runs aggregated: a second one
// still beats a decode server prefilling the whole prompt, a third rarely does.
constexpr int PREFILL_TARGETS_TRIED = 2;
// Requests a route must have answered before its latency percentile is trusted for hedging.
constexpr std::uint64_t MIN_HEDGE_HISTORY = 20;

double millisecondsSince(ProxyExchange::Clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(ProxyExchange::Clock::now() - start).count();
}

QByteArray headerValue(const Http::HeaderList &headers, QByteArrayView name)
{
    for (const auto &header : headers) {
        if (header.name == name) {
            return header.value;
        }
    }
    return {};
}

// An event whose JSON carries a usage object (not "usage":null); cheap enough to run on
// every event so only those few get parsed.
bool mayCarryUsage(QByteArrayView event)
{
    const qsizetype at = event.indexOf("\"usage\"");
    if (at < 0) {
        return false;
    }
    for (qsizetype i = at + 7; i < event.size(); ++i) {
        const char c = event[i];
        if (c == ' ' || c == ':' || c == '\t') {
            continue;
        }
        return c == '{';
    }
    return false;
}

QByteArray snippet(const QByteArray &body)
{
    QByteArray text = body.left(ERROR_SNIPPET_BYTES).simplified();
    if (body.size() > ERROR_SNIPPET_BYTES) {
        text += "...";
    }
    return text;
}

} // namespace

Routing::RequestSummary requestSummary(const InspectedRequest &inspected, const QByteArray &sessionKey)
{
    Routing::RequestSummary summary;
    summary.model = inspected.model;
    summary.estimatedPromptTokens = inspected.estimatedPromptTokens;
    summary.maxTokens = inspected.maxTokens;
    summary.sessionKey = sessionKey;
    summary.stream = inspected.stream;
    summary.hasImages = inspected.hasImages;
    summary.hasTools = inspected.hasTools;
    summary.promptBlocks = inspected.promptBlocks;
    return summary;
}

ProxyExchange::ProxyExchange(WorkerContext &worker, Setup &&setup, Http::ResponseWriter &writer)
    : m_worker {worker}
    , m_setup {std::move(setup)}
    , m_writer {writer}
{
}

ProxyExchange::~ProxyExchange()
{
    // A request still waiting for a slot leaves the queue first, so that no verdict can
    // be posted to a context that is about to go.
    m_wait.cancel();
    if (m_prefill && m_run.probe) {
        // The decode attempt was admitted as a probe but never sent.
        m_attempts[m_run.index].backend->monitor->health().cancelProbe();
    }
    m_prefill.reset();
    // Reaching here unfinished means the client went away: cancel the upstream
    // transfer now, and do not count it against the backend.
    m_abandonedInFlight = m_transfer != nullptr && !m_completed;
    m_transfer.reset();
    endAttemptMetrics(false, ErrorClass::ClientClosed);
    if (!m_completed) {
        completeRequest(true, ErrorClass::ClientClosed);
    }
}

ErrorShape ProxyExchange::errorShape() const
{
    return m_setup.endpoint == Runtime::Endpoint::Messages ? ErrorShape::Anthropic : ErrorShape::OpenAi;
}

bool ProxyExchange::start()
{
    planAttempts();
    keepTranslatableAttempts(m_attempts);
    const bool chat = m_setup.endpoint == Runtime::Endpoint::ChatCompletions || m_setup.endpoint == Runtime::Endpoint::Messages;
    const Config::HedgePolicy &hedge = routeConfig().hedge;
    // A hedge would be a second request on the group under one slot: the cap would no
    // longer hold. Routes with a queue do not hedge.
    if (hedge.enabled && !m_setup.inspected.stream && !m_setup.route->admission) {
        m_hedgeBudget = &m_setup.table->routing().hedgeBudget(m_setup.route->model, hedge.budget);
        m_hedgeBudget->requestStarted();
    }
    // Every stream keeps the answer text the client received (not the events): stream
    // resumption continues from it, and a stream that ends without usage is settled by
    // the exact token count of the text it delivered.
    if (m_setup.inspected.stream && m_setup.endpoint != Runtime::Endpoint::Embeddings) {
        m_continuation = std::make_unique<StreamContinuation>(m_setup.endpoint == Runtime::Endpoint::Messages
                                                                  ? StreamContinuation::Format::Anthropic
                                                                  : StreamContinuation::Format::OpenAi);
    }
    m_resumable = m_continuation && chat && routeConfig().streamResumption;
    if (m_attempts.empty() && m_residencyExclusions > 0) {
        m_setup.route->stats->residencyRefusals.fetch_add(1, std::memory_order_relaxed);
        respondError(403, ErrorClass::Unauthorized,
                     "no target of model '" + m_setup.route->model + "' that serves " + m_setup.request.path +
                         " is in the regions this request may use (" +
                         m_setup.table->regions().describe(m_setup.regions.intersected(m_setup.route->regions)) +
                         "): data residency forbids the others",
                     "residency_violation");
        return false;
    }
    if (m_attempts.empty() && !m_awaitingProvider.isEmpty()) {
        respondError(503, ErrorClass::UpstreamUnreachable,
                     "provider '" + m_awaitingProvider.toUtf8() + "' of model '" + m_setup.route->model +
                         "' has no servers yet: DNS discovery has not found any (see /admin/v1/state, discovery)",
                     "no_servers_discovered", QByteArrayLiteral("1"));
        return false;
    }
    if (m_attempts.empty() && m_translationError) {
        respondError(400, ErrorClass::BadRequest,
                     "the targets of model '" + m_setup.route->model + "' speak the other API format and " +
                         m_translationError->message + " (docs/TRANSLATION.md)",
                     "untranslatable_request");
        return false;
    }
    if (m_attempts.empty()) {
        respondError(400, ErrorClass::BadRequest,
                     "model '" + m_setup.route->model + "' has no target that serves " + m_setup.request.path +
                         " (only chat completions and messages translate between formats)",
                     "unsupported_endpoint");
        return false;
    }
    if (m_setup.route->admission) {
        return admitToQueue();
    }
    startAttempt();
    return true;
}

bool ProxyExchange::admitToQueue()
{
    Admission::AdmissionQueue &queue = *m_setup.route->admission;
    const Config::AdmissionClass &settings =
        m_setup.table->policy().admission.classes[Admission::classIndex(m_setup.priority)];
    const qint64 now = Runtime::monotonicNowMs();
    // The objective counts from the request's arrival at the gateway, not from here.
    const qint64 receivedAtMs =
        std::chrono::duration_cast<std::chrono::milliseconds>(m_setup.receivedAt.time_since_epoch()).count();
    Admission::AdmissionRequest request;
    request.priority = m_setup.priority;
    request.virtualKey = m_setup.virtualKey;
    request.tokens = m_expectedTokens;
    request.deadlineMs = receivedAtMs + settings.ttftObjectiveMs;

    // The queue may resolve the wait on any thread (the one giving a slot back, or
    // expiring waiters), even before admit() returns: the verdict is posted to this
    // exchange's thread. The context is deleted with the exchange, which discards a
    // verdict still on its way; its ticket then gives the slot back.
    m_waitContext = std::make_unique<QObject>();
    QObject *context = m_waitContext.get();
    Admission::AdmitResult result = queue.admit(
        request,
        [this, context](Admission::WaitResult resolved) {
            // Shared, not moved into the call: Qt 6.4 copies the functor it posts (the
            // ticket inside is move-only). The last copy to go gives an unused slot back.
            auto shared = std::make_shared<Admission::WaitResult>(std::move(resolved));
            QMetaObject::invokeMethod(
                context, [this, shared] { waitResolved(std::move(*shared)); }, Qt::QueuedConnection);
        },
        now);
    switch (result.verdict) {
    case Admission::Verdict::Granted:
        m_ticket = std::move(result.ticket);
        startAttempt();
        return true;
    case Admission::Verdict::Queued:
        // No attempt yet: the client's connection stays open until the verdict.
        m_wait = std::move(result.handle);
        armWaitTimer(now + settings.maxQueueWaitMs);
        return true;
    case Admission::Verdict::Rejected:
    case Admission::Verdict::TimedOut:
        break;
    }
    respondRefused(result.verdict, result.refusal);
    return false;
}

void ProxyExchange::waitResolved(Admission::WaitResult result)
{
    m_wait = Admission::WaitHandle {}; // resolved: nothing left to cancel
    m_waitTimer.reset();
    m_queueWaitMs = result.waitedMs;
    if (result.verdict != Admission::Verdict::Granted) {
        respondRefused(result.verdict, result.refusal);
        return;
    }
    m_ticket = std::move(result.ticket);
    // The plan was made on arrival; the targets' load has changed while it waited.
    std::vector<Attempt> fresh;
    QByteArray explain;
    planRoute(fresh, m_setup.explain ? &explain : nullptr);
    keepTranslatableAttempts(fresh);
    if (!fresh.empty()) {
        m_attempts = std::move(fresh);
        m_explain = std::move(explain);
    }
    startAttempt();
}

void ProxyExchange::armWaitTimer(qint64 atMs)
{
    if (!m_waitTimer) {
        m_waitTimer = std::make_unique<QTimer>();
        m_waitTimer->setSingleShot(true);
        m_waitTimer->setTimerType(Qt::PreciseTimer);
        QObject::connect(m_waitTimer.get(), &QTimer::timeout, m_waitContext.get(), [this] { expireWaiters(); });
    }
    // One past the deadline: expire() times out waiters whose deadline is <= now.
    const qint64 delayMs = std::max<qint64>(0, atMs - Runtime::monotonicNowMs()) + 1;
    m_waitTimer->start(static_cast<int>(std::min<qint64>(delayMs, std::numeric_limits<int>::max())));
}

void ProxyExchange::expireWaiters()
{
    // Each waiter's exchange arms a timer for its own max wait, so the queue is expired
    // when any of its waiters is due and no thread ticks while nobody waits. The verdict
    // (time-out, or a refusal now predicted) arrives through waitResolved(); until then
    // the next waiter's deadline is watched too, in case the queue's settings changed.
    Admission::AdmissionQueue &queue = *m_setup.route->admission;
    queue.expire(Runtime::monotonicNowMs());
    if (const std::optional<qint64> next = queue.nextDeadlineMs()) {
        armWaitTimer(*next);
    }
}

void ProxyExchange::respondRefused(Admission::Verdict verdict, const Admission::Refusal &refusal)
{
    const Config::AdmissionClass &settings =
        m_setup.table->policy().admission.classes[Admission::classIndex(m_setup.priority)];
    const QLatin1String name = Admission::priorityClassName(m_setup.priority);
    const QByteArray className(name.data(), name.size());
    const QByteArray objective = "the " + className + " class's time-to-first-token objective of " +
                                 QByteArray::number(settings.ttftObjectiveMs) + " ms";
    const QByteArray model = "model '" + m_setup.route->model + "'";
    // The queue promises Retry-After >= 1 s with every refusal; 1 s is the floor anyway.
    const QByteArray retryAfter = QByteArray::number(std::max(1, refusal.retryAfterSeconds));
    const QByteArray retry = "; retry after " + retryAfter + " s";
    if (verdict == Admission::Verdict::TimedOut || refusal.reason == Admission::RefusalReason::MaxWait) {
        respondError(429, ErrorClass::RateLimited,
                     "every target of " + model + " stayed busy: this " + className + " request waited " +
                         QByteArray::number(settings.maxQueueWaitMs) + " ms (max_queue_wait_ms) for a slot without one freeing up, missing " +
                         objective + retry,
                     "queue_timeout", retryAfter);
        return;
    }
    switch (refusal.reason) {
    case Admission::RefusalReason::PredictedMiss:
        respondError(429, ErrorClass::RateLimited,
                     "every target of " + model + " is busy: this " + className +
                         " request would get its first token too late for " + objective + retry,
                     "predicted_slo_miss", retryAfter);
        return;
    case Admission::RefusalReason::QueueFull:
        respondError(429, ErrorClass::RateLimited,
                     "the gateway queue of " + model + " is full and holds no request of a class below " + className +
                         " to make room (the " + className + " class's time-to-first-token objective is " +
                         QByteArray::number(settings.ttftObjectiveMs) + " ms)" + retry,
                     "queue_full", retryAfter);
        return;
    case Admission::RefusalReason::Evicted:
        respondError(429, ErrorClass::RateLimited,
                     "the gateway queue of " + model + " is full and a request of a higher class took the place of this " +
                         className + " request (the " + className + " class's time-to-first-token objective is " +
                         QByteArray::number(settings.ttftObjectiveMs) + " ms)" + retry,
                     "queue_full", retryAfter);
        return;
    case Admission::RefusalReason::Shutdown:
    case Admission::RefusalReason::MaxWait:
    case Admission::RefusalReason::None:
        break;
    }
    respondError(503, ErrorClass::RateLimited,
                 "the gateway queue of " + model + " was closed while this " + className + " request waited" + retry,
                 "queue_closed", retryAfter);
}

void ProxyExchange::planAttempts()
{
    planRoute(m_attempts, m_setup.explain ? &m_explain : nullptr);
    m_setup.table->retryBudget().requestStarted();
}

void ProxyExchange::planRoute(std::vector<Attempt> &attempts, QByteArray *explain)
{
    const auto &table = *m_setup.table;
    const Routing::RequestSummary summary = requestSummary(m_setup.inspected, m_setup.sessionKey);
    m_expectedTokens = summary.expectedTokens();
    const Routing::BackendSnapshot &snapshot = m_worker.routingSnapshot(table, Runtime::monotonicNowMs());
    AttemptPlanner planner {table, m_setup.endpoint, m_worker.rng(), m_setup.regions};
    planner.plan(*m_setup.route, summary, snapshot, m_setup.allowedTargets, attempts, explain);
    m_residencyExclusions = std::max(m_residencyExclusions, planner.residencyExclusions());
    if (!planner.awaitingProvider().isEmpty()) {
        m_awaitingProvider = planner.awaitingProvider();
    }
}

Config::WireFormat ProxyExchange::clientFormat() const
{
    return m_setup.endpoint == Runtime::Endpoint::Messages ? Config::WireFormat::Anthropic : Config::WireFormat::OpenAi;
}

bool ProxyExchange::needsTranslation(const Attempt &attempt) const
{
    const auto &provider = m_setup.table->providers()[static_cast<std::size_t>(attempt.backend->providerIndex)];
    return provider.servesByTranslation(m_setup.endpoint);
}

void ProxyExchange::keepTranslatableAttempts(std::vector<Attempt> &attempts)
{
    const auto translated = [this](const Attempt &attempt) { return needsTranslation(attempt); };
    if (std::none_of(attempts.begin(), attempts.end(), translated)) {
        return;
    }
    if (!m_translationChecked) {
        // Whether the body translates does not depend on the target: checked once.
        m_translationChecked = true;
        auto body = translatedBody(*std::find_if(attempts.begin(), attempts.end(), translated));
        if (!body) {
            m_translationError = body.error();
        }
    }
    if (m_translationError) {
        std::erase_if(attempts, translated);
        if (m_setup.explain) {
            m_explain += "; translation refused: " + m_translationError->message;
        }
    }
}

Expected<QByteArray, Translate::TranslationError> ProxyExchange::translatedBody(const Attempt &attempt)
{
    const QByteArray &model = attempt.backend->upstreamModel;
    if (!m_translatedBody.isEmpty() && m_translatedModel == model) {
        return m_translatedBody;
    }
    auto body = clientFormat() == Config::WireFormat::OpenAi
                    ? Translate::anthropicRequestFromOpenAi(m_setup.request.body, model)
                    : Translate::openAiRequestFromAnthropic(m_setup.request.body, model);
    if (body) {
        m_translatedModel = model;
        m_translatedBody = body.value();
    }
    return body;
}

bool ProxyExchange::wantsInjectedUsage(const Attempt &attempt) const
{
    if (!m_setup.inspected.stream || m_setup.inspected.includeUsage) {
        return false;
    }
    if (m_setup.endpoint != Runtime::Endpoint::ChatCompletions && m_setup.endpoint != Runtime::Endpoint::Completions) {
        return false;
    }
    const auto &provider = m_setup.table->providers()[static_cast<std::size_t>(attempt.backend->providerIndex)];
    // TGI's OpenAI layer predates stream_options; it reports no usage we could ask for.
    return provider.format == Config::WireFormat::OpenAi && provider.config.type != Config::ProviderType::Tgi;
}

Upstream::UpstreamRequest ProxyExchange::buildUpstreamRequest(const Attempt &attempt, int key)
{
    const auto &provider = m_setup.table->providers()[static_cast<std::size_t>(attempt.backend->providerIndex)];
    const auto &clientRequest = m_setup.request;
    Upstream::UpstreamRequest request;
    request.url = provider.urlFor(provider.upstreamEndpoint(m_setup.endpoint), attempt.backend->upstreamModel);
    m_injectedUsage = wantsInjectedUsage(attempt);
    if (needsTranslation(attempt)) {
        // Checked when the attempt was planned (keepTranslatableAttempts): it translates.
        auto translated = translatedBody(attempt);
        request.body = translated ? std::move(translated.value()) : QByteArray();
    } else {
        request.body = rewriteBody(clientRequest.body, m_setup.inspected, attempt.backend->upstreamModel, m_injectedUsage);
    }
    if (m_resuming) {
        const auto type = provider.config.type;
        const bool gpuServer = type == Config::ProviderType::Vllm || type == Config::ProviderType::Sglang ||
                               type == Config::ProviderType::OpenAiCompatible || type == Config::ProviderType::LlamaCpp ||
                               type == Config::ProviderType::Tgi;
        request.body = m_continuation->continuationBody(request.body, gpuServer);
    }

    request.headers.reserve(8 + provider.extraHeaderLines.size());
    request.headers.push_back(QByteArrayLiteral("Content-Type: application/json"));
    // Only what the upstream needs: every extra header line costs libcurl a formatted
    // copy per request. Accept is forwarded when the client chose one.
    const QByteArray accept = clientRequest.header("accept");
    if (!accept.isEmpty()) {
        request.headers.push_back("Accept: " + accept);
    }
    // A provider with keys always has a pool, and admission picked one of its keys.
    if (key >= 0 && static_cast<std::size_t>(key) < provider.authHeaderLines.size()) {
        request.headers.push_back(provider.authHeaderLines[static_cast<std::size_t>(key)]);
    }
    if (provider.format == Config::WireFormat::Anthropic) {
        const QByteArray version = clientRequest.header("anthropic-version");
        request.headers.push_back("anthropic-version: " + (version.isEmpty() ? QByteArray(DEFAULT_ANTHROPIC_VERSION) : version));
        const QByteArray beta = clientRequest.header("anthropic-beta");
        if (!beta.isEmpty()) {
            request.headers.push_back("anthropic-beta: " + beta);
        }
    }
    for (const QByteArray &line : provider.extraHeaderLines) {
        request.headers.push_back(line);
    }
    request.headers.push_back("x-switchyard-request-id: " + m_setup.requestId);
    request.connectTimeoutMs = provider.config.timeouts.connectMs;
    request.firstByteTimeoutMs = provider.config.timeouts.firstTokenMs;
    request.idleTimeoutMs = provider.config.timeouts.idleMs;
    request.http2PriorKnowledge = provider.config.http2PriorKnowledge;
    return request;
}

void ProxyExchange::noteAttempt(std::size_t index, QByteArrayView what)
{
    if (m_setup.explain) {
        m_attemptTrail += (m_attemptTrail.isEmpty() ? "" : ">") + m_attempts[index].backend->label + ':' + what;
    }
}

bool ProxyExchange::admitRun(std::size_t index, AttemptRun &run, qint64 now, bool lastChance)
{
    const Attempt &attempt = m_attempts[index];
    const Routing::Admission admission = attempt.backend->monitor->health().admit(now);
    if (admission == Routing::Admission::Rejected && !lastChance) {
        noteAttempt(index, "skipped(circuit open)");
        return false;
    }
    run = AttemptRun {};
    run.index = index;
    run.probe = admission == Routing::Admission::Probe;
    const auto &provider = m_setup.table->providers()[static_cast<std::size_t>(attempt.backend->providerIndex)];
    if (provider.keys) {
        run.key = provider.keys->pick(now, m_expectedTokens, m_worker.rng(), &run.keyProbe, m_failedKey);
        if (run.key < 0) {
            if (run.probe) {
                attempt.backend->monitor->health().cancelProbe();
            }
            noteAttempt(index, "skipped(every key cooling down)");
            return false;
        }
    }
    return true;
}

bool ProxyExchange::admitAttempt()
{
    const qint64 now = Runtime::monotonicNowMs();
    for (; m_attemptIndex < m_attempts.size(); ++m_attemptIndex) {
        const bool lastChance = m_attemptIndex + 1 == m_attempts.size() && m_attemptTrail.isEmpty() && !m_holdsRetry;
        if (admitRun(m_attemptIndex, m_run, now, lastChance)) {
            return true;
        }
    }
    return false;
}

bool ProxyExchange::shouldRetry(const Failure &failure)
{
    if (!failure.retryable || m_attemptIndex + 1 >= m_attempts.size()) {
        return false;
    }
    if ((m_setup.route->retryOn & failure.retryClass) == 0 && (m_classFallbacksUsed & failure.retryClass) == 0) {
        return false;
    }
    if (!m_holdsRetry) {
        // One slot per request: it has at most one attempt in flight at a time.
        if (!m_setup.table->retryBudget().tryAcquireRetry()) {
            m_budgetExhausted = true;
            return false;
        }
        m_holdsRetry = true;
    }
    return true;
}

void ProxyExchange::startAttempt()
{
    if (!admitAttempt()) {
        m_attemptIndex = m_attempts.size() - 1;
        if (m_clientStatus != 0) {
            ErrorInfo error;
            error.status = 503;
            error.code = "no_capacity";
            error.message = "the stream failed and no other target of model '" + m_setup.route->model +
                            "' could continue it; the response is incomplete";
            endCommittedStream(error, ErrorClass::RateLimited);
            return;
        }
        respondError(503, ErrorClass::RateLimited,
                     "no target of model '" + m_setup.route->model +
                         "' can take the request now: circuits open or every provider key is cooling down",
                     "no_capacity", QByteArrayLiteral("1"));
        return;
    }
    if (!m_pdDecided && !m_resuming) {
        // Once per request, for its first admitted attempt: the decode target is known.
        m_pdDecided = true;
        if (startPrefill()) {
            return; // sendAttempt() follows when the prefill step ended
        }
    }
    sendAttempt();
}

bool ProxyExchange::startPrefill()
{
    const Attempt &decode = m_attempts[m_attemptIndex];
    const Runtime::RouteRuntime &route = *decode.route;
    const bool openAiBody = m_setup.endpoint == Runtime::Endpoint::ChatCompletions ||
                            m_setup.endpoint == Runtime::Endpoint::Completions;
    if (!route.hasPrefillPool() || !openAiBody || needsTranslation(decode)) {
        return false;
    }
    const Routing::PdVerdict verdict =
        Routing::decidePrefillDecode(route.pd, m_setup.inspected.estimatedPromptTokens, decode.cachedPromptTokens);
    const QByteArray uncached = " uncached=" + QByteArray::number(verdict.uncachedTokens) + " threshold=" +
                                QByteArray::number(route.pd.uncachedTokensThreshold);
    if (verdict.decision == Routing::PdDecision::Aggregated) {
        route.pdStats->aggregated.fetch_add(1, std::memory_order_relaxed);
        m_pdReason = "pd=aggregated" + uncached + (route.pd.enabled ? QByteArray() : QByteArray(" (disabled)"));
        return false;
    }
    const auto &table = *m_setup.table;
    const Routing::RequestSummary summary = requestSummary(m_setup.inspected, m_setup.sessionKey);
    const Routing::BackendSnapshot &snapshot = m_worker.routingSnapshot(table, Runtime::monotonicNowMs());
    AttemptPlanner planner {table, m_setup.endpoint, m_worker.rng(), m_setup.regions};
    planner.planPrefill(route, summary, snapshot, PREFILL_TARGETS_TRIED, m_prefillPlan, nullptr);
    m_prefillNext = 0;
    if (!m_prefillPlan.empty()) {
        // The prefill server's own backlog and cache against the decode server's:
        // splitting onto a busy or cold prefill server only delays the answer.
        const PlannedAttempt &prefill = m_prefillPlan.front();
        const Routing::PdWorkComparison comparison = Routing::comparePrefillWork(
            route.pd, Routing::pdWorkFrom(snapshot, m_setup.inspected.estimatedPromptTokens, decode.backend->id,
                                          decode.cachedPromptTokens, prefill.backend->id, prefill.cachedPromptTokens));
        if (!comparison.allowsSplit) {
            route.pdStats->aggregated.fetch_add(1, std::memory_order_relaxed);
            m_pdReason = "pd=aggregated" + uncached + " prefill_work=" + QByteArray::number(comparison.prefillWork) +
                         " decode_work=" + QByteArray::number(comparison.decodeWork) + " (prefill server " +
                         prefill.backend->label + " busier)";
            m_prefillPlan.clear();
            return false;
        }
    }
    route.pdStats->disaggregated.fetch_add(1, std::memory_order_relaxed);
    m_pdReason = "pd=disaggregated" + uncached;
    if (m_prefillPlan.empty()) {
        m_pdReason += " prefill=none available, ran aggregated";
        return false;
    }
    if (!startNextPrefill()) {
        m_pdReason += ", ran aggregated";
        return false;
    }
    return true;
}

bool ProxyExchange::startNextPrefill()
{
    const qint64 now = Runtime::monotonicNowMs();
    while (m_prefillNext < m_prefillPlan.size()) {
        const PlannedAttempt &prefill = m_prefillPlan[m_prefillNext++];
        m_prefill = std::make_unique<DisaggregatedPrefill>(*m_setup.table, prefill,
                                                           m_setup.inspected.estimatedPromptTokens, [this] {
            // Continued on the next loop turn: sending the decode step may end the whole
            // exchange, which must not happen inside the prefill's own completion.
            QMetaObject::invokeMethod(m_prefillContext.get(), [this] { prefillCompleted(); }, Qt::QueuedConnection);
        });
        if (!m_prefill->admit(m_worker.rng(), now)) {
            m_pdReason += " prefill=" + prefill.backend->label + "(" + m_prefill->failure() + ")";
            countPrefillFailure(prefill);
            m_prefill.reset();
            continue;
        }
        // The prefill pool was ranked as a look-ahead: the prompt is placed on this
        // server only now that its prefill step is sent.
        m_setup.table->recordPrefixPlacement(prefill.backend->id, m_setup.inspected.promptBlocks);
        m_prefillContext = std::make_unique<QObject>();
        auto request = buildUpstreamRequest(prefill, m_prefill->key());
        request.body = prefillRequestBody(m_setup.request.body, prefill.backend->upstreamModel);
        request.headers.push_back(pdRequestIdHeader());
        if (m_setup.trace) {
            m_prefillTrace = traceAttempt(prefill, Tracing::RequestTrace::AttemptKind::Prefill, false, request);
        }
        m_prefill->start(m_worker.curl(), std::move(request));
        m_worker.curl().kick();
        return true;
    }
    return false;
}

void ProxyExchange::prefillCompleted()
{
    const PlannedAttempt &prefill = m_prefill->attempt();
    if (m_setup.trace) {
        traceAttemptEnd(std::exchange(m_prefillTrace, -1), m_prefill->status(), !m_prefill->kvTransferParams(), false,
                        QByteArrayLiteral("prefill_failed"), m_prefill->failure(), -1);
    }
    const QByteArray prefillNote = " prefill=" + prefill.backend->label + ":" + QByteArray::number(m_prefill->durationMs(), 'f', 1) + "ms";
    if (const auto &params = m_prefill->kvTransferParams()) {
        m_kvTransferParams = *params;
        m_pdReason += prefillNote;
    } else {
        m_pdReason += prefillNote + "(" + m_prefill->failure() + ")";
        countPrefillFailure(prefill);
    }
    const bool failed = m_kvTransferParams.isEmpty();
    m_prefill.reset(); // its completion has returned: the call was posted
    // A failed step moves to the next prefill server (the decode server would otherwise
    // prefill the whole prompt itself); after that the request runs aggregated.
    if (failed && startNextPrefill()) {
        return;
    }
    if (failed) {
        m_pdReason += ", ran aggregated";
    }
    sendAttempt();
}

QByteArray ProxyExchange::pdRequestIdHeader() const
{
    // Both steps under one request id, as vLLM's disaggregated-serving proxy sends them:
    // KV connectors that predate remote_request_id match the decode to its prefill by it.
    return "X-Request-Id: " + m_setup.requestId;
}

void ProxyExchange::countPrefillFailure(const PlannedAttempt &prefill)
{
    if (Metrics::Counter *counter = prefill.route->prefillFailureCounter(prefill.backend->id)) {
        counter->fetch_add(1, std::memory_order_relaxed);
    }
}

void ProxyExchange::sendAttempt()
{
    const Attempt &attempt = m_attempts[m_attemptIndex];
    m_mode = Mode::Waiting;
    m_upstreamStatus = 0;
    m_upstreamContentType.clear();
    m_upstreamRetryAfter.clear();
    m_buffer.clear();
    m_run.sawBody = false;
    m_lastBackendLabel = attempt.backend->label;
    m_translated = needsTranslation(attempt);
    auto request = buildUpstreamRequest(attempt, m_run.key);
    // The prefilled KV blocks are handed to this one attempt: a retry elsewhere prefills
    // again itself (the prefill server frees blocks once they were pulled).
    const bool prefilledRemotely = !m_kvTransferParams.isEmpty();
    if (prefilledRemotely) {
        request.body = withKvTransferParams(request.body, m_kvTransferParams);
        request.headers.push_back(pdRequestIdHeader());
        m_kvTransferParams.clear();
    }
    if (m_setup.trace) {
        using Kind = Tracing::RequestTrace::AttemptKind;
        const Kind kind = m_resuming ? Kind::Resume : m_attemptIndex == 0 ? Kind::First
                          : attempt.route == m_setup.route                ? Kind::Retry
                                                                           : Kind::Fallback;
        m_run.traceAttempt = traceAttempt(attempt, kind, m_run.probe, request);
    }
    beginRun(m_run, prefilledRemotely);
    m_transfer = m_worker.curl().start(std::move(request), *this);
    if (m_hedgeBudget && !m_hedge && !m_hedgeTimer && m_attemptIndex + 1 < m_attempts.size()) {
        armHedge();
    }
    // Send now rather than on the next loop turn. This may complete the attempt (and even
    // the whole exchange) synchronously, so nothing may follow it here.
    m_worker.curl().kick();
}

void ProxyExchange::beginRun(AttemptRun &run, bool prefilledRemotely)
{
    const Attempt &attempt = m_attempts[run.index];
    attempt.backend->stats->attempts.fetch_add(1, std::memory_order_relaxed);
    if (needsTranslation(attempt)) {
        attempt.backend->stats->translatedAttempts.fetch_add(1, std::memory_order_relaxed);
    }
    attempt.backend->stats->inFlight.fetch_add(1, std::memory_order_relaxed);
    // A decode step that imports the prompt's KV blocks has no prefill work of its own.
    const std::int64_t prefillTokens =
        prefilledRemotely ? 0 : std::max<std::int64_t>(0, m_setup.inspected.estimatedPromptTokens - attempt.cachedPromptTokens);
    run.prefill = attempt.backend->monitor->started(tokenLoad(prefillTokens), Runtime::monotonicNowUs());
    run.inFlight = true;
    run.ttftMs = -1;
    run.startedAt = Clock::now();
}

Runtime::BackendMonitor::TokenLoad ProxyExchange::tokenLoad(std::int64_t prefillTokens) const
{
    const std::int64_t decode = std::max<std::int64_t>(0, m_expectedTokens - m_setup.inspected.estimatedPromptTokens);
    return {m_expectedTokens, prefillTokens, decode};
}

void ProxyExchange::prefillDone(AttemptRun &run)
{
    m_attempts[run.index].backend->monitor->prefillDone(run.prefill, Runtime::monotonicNowUs());
}

void ProxyExchange::armHedge()
{
    // The delay is the route's own latency percentile: only requests slower than, say, 95%
    // of their peers get a backup. Without enough history there is nothing to compare to.
    const Config::HedgePolicy &policy = routeConfig().hedge;
    const Metrics::Histogram &latency = m_setup.route->stats->latency;
    if (latency.count() < MIN_HEDGE_HISTORY) {
        return;
    }
    const double delayMs = std::max<double>(policy.minDelayMs, latency.quantileMs(policy.percentile));
    m_hedgeTimer = std::make_unique<QTimer>();
    m_hedgeTimer->setSingleShot(true);
    m_hedgeTimer->setTimerType(Qt::PreciseTimer);
    QObject::connect(m_hedgeTimer.get(), &QTimer::timeout, &m_worker.threadContext(), [this] { launchHedge(); });
    m_hedgeTimer->start(static_cast<int>(std::ceil(delayMs)));
}

void ProxyExchange::launchHedge()
{
    if (m_completed || !m_transfer || m_hedge || m_attemptIndex + 1 >= m_attempts.size()) {
        return;
    }
    if (!m_hedgeBudget->tryAcquireRetry()) {
        m_hedgeBudgetExhausted = true;
        return;
    }
    m_holdsHedge = true;
    AttemptRun run;
    if (!admitRun(m_attemptIndex + 1, run, Runtime::monotonicNowMs(), false)) {
        releaseHedgeSlot();
        return;
    }
    const Attempt &attempt = m_attempts[run.index];
    auto request = buildUpstreamRequest(attempt, run.key);
    if (m_setup.trace) {
        run.traceAttempt = traceAttempt(attempt, Tracing::RequestTrace::AttemptKind::Hedge, run.probe, request);
    }
    beginRun(run);
    m_setup.route->stats->hedges.fetch_add(1, std::memory_order_relaxed);
    noteAttempt(run.index, "hedge");
    m_hedge = std::make_unique<HedgeAttempt>(run, MAX_BUFFERED_RESPONSE_BYTES, [this](HedgeAttempt &hedge) { hedgeCompleted(hedge); });
    m_hedge->start(m_worker.curl(), std::move(request));
    m_worker.curl().kick();
}

void ProxyExchange::hedgeCompleted(HedgeAttempt &hedge)
{
    releaseHedgeSlot();
    if (m_completed) {
        return;
    }
    if (m_transfer && !hedge.succeeded()) {
        // The main attempt is still running: a failed backup changes nothing for the client.
        const ErrorClass errorClass = hedge.result().error != Upstream::TransferError::None ? ErrorClass::UpstreamReset
                                      : hedge.status() == 429                               ? ErrorClass::RateLimited
                                      : hedge.status() < 500                                 ? ErrorClass::UpstreamClientError
                                                                                             : ErrorClass::UpstreamError;
        endRunMetrics(hedge.run(), hedge.status(), true, errorClass, hedge.result().errorText);
        return;
    }
    if (m_transfer) {
        // The backup won: the main attempt is abandoned, not held against its backend.
        m_transfer.reset();
        endAttemptMetrics(false, ErrorClass::ClientClosed);
        m_setup.route->stats->hedgeWins.fetch_add(1, std::memory_order_relaxed);
    }
    // Adopt the backup as the attempt (it answered, or the main one failed already) and
    // finish through the normal completion path.
    m_hedgeTimer.reset();
    m_run = hedge.run();
    m_attemptIndex = m_run.index;
    m_lastBackendLabel = m_attempts[m_attemptIndex].backend->label;
    m_translated = needsTranslation(m_attempts[m_attemptIndex]);
    m_upstreamStatus = hedge.status();
    m_upstreamContentType = headerValue(hedge.headers(), "content-type");
    m_upstreamRetryAfter = headerValue(hedge.headers(), "retry-after");
    m_buffer = std::move(hedge.body());
    m_mode = m_upstreamStatus >= 200 && m_upstreamStatus < 300 ? Mode::Buffering : Mode::DiscardingError;
    onComplete(hedge.result());
}

void ProxyExchange::releaseHedgeSlot()
{
    if (m_holdsHedge) {
        m_holdsHedge = false;
        m_hedgeBudget->releaseRetry();
    }
}

void ProxyExchange::cancelHedge()
{
    m_hedgeTimer.reset();
    if (m_hedge && m_hedge->inFlight()) {
        m_hedge->cancel();
        endRunMetrics(m_hedge->run(), 0, false, ErrorClass::ClientClosed, {});
    }
    releaseHedgeSlot();
}

const Config::Route &ProxyExchange::routeConfig() const
{
    // Routes are compiled in document order, so the index finds the route's settings.
    return m_setup.table->policy().routes[static_cast<std::size_t>(m_setup.route->index)];
}

GovernanceGate::Charge ProxyExchange::charge() const
{
    GovernanceGate::Charge charge;
    charge.route = m_setup.route->model;
    const bool tried = m_attemptIndex < m_attempts.size() && !m_lastBackendLabel.isEmpty();
    if (tried) {
        charge.backend = m_lastBackendLabel;
    }
    Governance::Usage &usage = charge.usage;
    const bool someUsage = m_tokensIn >= 0 || m_tokensOut >= 0;
    if (!someUsage && m_streamedEvents == 0 && !m_abandonedInFlight) {
        return charge; // nothing reached a provider, or it refused: nothing to charge
    }
    // What the provider did not report is counted: exactly (the answering target's
    // tokenizer for OpenAI model families, the calibrated estimator for others) once the
    // counter has loaded, else by the cheap estimates. Rare (cancelled streams, providers
    // without usage), so exact counting (~100 µs for a 4 KB prompt) stays off the common path.
    const std::shared_ptr<const Tokenize::TokenCounter> counter =
        tried && m_worker.environment().tokenCounter ? m_worker.environment().tokenCounter->get() : nullptr;
    const QString upstreamModel = tried ? QString::fromUtf8(m_attempts[m_attemptIndex].backend->upstreamModel) : QString();
    if (m_tokensIn >= 0) {
        usage.inputTokens = m_tokensIn;
    } else if (counter) {
        usage.inputTokens = countPromptTokens(*counter, upstreamModel);
    } else {
        usage.inputTokens = std::max(0, m_setup.inspected.estimatedPromptTokens);
    }
    if (m_tokensOut >= 0) {
        usage.outputTokens = m_tokensOut;
    } else if (counter && m_continuation && m_continuation->canResume() && m_streamedEvents > 0) {
        usage.outputTokens = counter->count(upstreamModel, m_continuation->partialText()).tokens;
    } else {
        usage.outputTokens = m_streamedEvents; // providers send about one token per content event
    }
    usage.cachedInputTokens = std::max<qint64>(0, m_cachedTokensIn);
    charge.estimated = m_tokensIn < 0 || m_tokensOut < 0;
    if (tried) {
        charge.costNanos = Governance::costNanos(m_attempts[m_attemptIndex].backend->price, usage);
    }
    return charge;
}

qint64 ProxyExchange::countPromptTokens(const Tokenize::TokenCounter &counter, const QString &model) const
{
    // The message text as the client sent it (the chat template's few tokens per message
    // are not counted: they depend on the serving engine).
    std::vector<MessageText> texts;
    if (!m_worker.messageText().scan(m_setup.endpoint, m_setup.request.body, texts)) {
        return std::max(0, m_setup.inspected.estimatedPromptTokens);
    }
    qint64 tokens = 0;
    for (const MessageText &text : texts) {
        tokens += counter.count(model, text.text).tokens;
    }
    return tokens;
}

QByteArray ProxyExchange::routeReason() const
{
    if (!m_setup.explain) {
        // The P/D decision is always kept in the request log: it is what an operator
        // tunes the threshold by, and costs a string only on routes with a prefill pool.
        return m_pdReason;
    }
    QByteArray reason = m_setup.ruleReason.isEmpty() ? m_explain : m_setup.ruleReason + "; " + m_explain;
    if (!m_pdReason.isEmpty()) {
        reason += "; " + m_pdReason;
    }
    if (!m_attemptTrail.isEmpty()) {
        reason += "; attempts=" + m_attemptTrail;
    }
    if (m_queueWaitMs >= 0) {
        const QLatin1String name = Admission::priorityClassName(m_setup.priority);
        reason += "; queued " + QByteArray::number(m_queueWaitMs) + " ms as " + QByteArray(name.data(), name.size());
    }
    if (m_budgetExhausted) {
        reason += "; retry budget exhausted";
    }
    if (m_hedgeBudgetExhausted) {
        reason += "; hedge budget exhausted";
    }
    // A header value: keep it to visible ASCII.
    for (char &c : reason) {
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
            c = '?';
        }
    }
    return reason;
}

Http::HeaderList ProxyExchange::responseHeaders() const
{
    Http::HeaderList headers;
    headers.reserve(4);
    headers.push_back({QByteArrayLiteral("x-switchyard-request-id"), m_setup.requestId});
    if (!m_lastBackendLabel.isEmpty()) {
        headers.push_back({QByteArrayLiteral("x-switchyard-backend"), m_lastBackendLabel});
    }
    if (m_setup.explainHeader) {
        headers.push_back({QByteArrayLiteral("x-switchyard-route-reason"), routeReason()});
    }
    if (m_queueWaitMs >= 0) {
        headers.push_back({QByteArrayLiteral("x-switchyard-queue-wait-ms"), QByteArray::number(m_queueWaitMs)});
    }
    if (m_setup.cache) {
        headers.push_back({QByteArrayLiteral("x-switchyard-cache"), m_setup.cache->header()});
    }
    return headers;
}

void ProxyExchange::onResponseHead(int status, const Http::HeaderList &headers)
{
    m_upstreamStatus = status;
    m_upstreamContentType = headerValue(headers, "content-type");
    m_upstreamRetryAfter = headerValue(headers, "retry-after");
    observeRateLimits(headers);
    if (status < 200 || status >= 300) {
        m_mode = Mode::DiscardingError;
        return;
    }
    if (m_resuming) {
        // The client already has the head: the continuation only adds events.
        m_mode = m_upstreamContentType.contains("text/event-stream") ? Mode::Streaming : Mode::DiscardingError;
        return;
    }
    if (m_setup.inspected.stream && m_upstreamContentType.contains("text/event-stream")) {
        // The commit point: from here on the client has our answer and no retry is
        // possible; a later failure is reported inside the stream.
        m_mode = Mode::Streaming;
        if (m_translated) {
            Translate::StreamOptions options;
            options.includeUsage = m_setup.inspected.includeUsage;
            options.created = QDateTime::currentSecsSinceEpoch();
            const Config::WireFormat upstream =
                clientFormat() == Config::WireFormat::OpenAi ? Config::WireFormat::Anthropic : Config::WireFormat::OpenAi;
            m_streamTranslator = Translate::makeStreamTranslator(upstream, clientFormat(), options);
        }
        Http::HeaderList out = responseHeaders();
        out.push_back({QByteArrayLiteral("content-type"), m_upstreamContentType});
        out.push_back({QByteArrayLiteral("cache-control"), QByteArrayLiteral("no-cache")});
        m_clientStatus = status;
        m_writer.writeHead(status, out, -1);
        return;
    }
    m_mode = Mode::Buffering;
}

bool ProxyExchange::onResponseData(QByteArrayView data)
{
    if (!m_run.sawBody) {
        m_run.sawBody = true;
        // Teaches the queue its service time to first token (slot granted -> first byte
        // of an answer; an error body's first byte is no token).
        if (m_upstreamStatus >= 200 && m_upstreamStatus < 300) {
            m_ticket.firstToken(Runtime::monotonicNowMs());
        }
        m_run.ttftMs = millisecondsSince(m_run.startedAt);
        m_attempts[m_attemptIndex].backend->stats->ttft.observeMs(m_run.ttftMs);
        prefillDone(m_run);
    }
    switch (m_mode) {
    case Mode::Streaming:
        forwardStreamData(data);
        return true;
    case Mode::Buffering:
        if (m_buffer.size() + data.size() > MAX_BUFFERED_RESPONSE_BYTES) {
            return false; // ends the transfer as Aborted
        }
        m_buffer.append(data.data(), data.size());
        return true;
    case Mode::DiscardingError:
    case Mode::Waiting:
        if (m_buffer.size() < MAX_ERROR_BODY_BYTES) {
            m_buffer.append(data.data(), std::min(data.size(), MAX_ERROR_BODY_BYTES - m_buffer.size() + 1));
        }
        return true;
    }
    return true;
}

void ProxyExchange::forwardStreamData(QByteArrayView data)
{
    QByteArray out;
    m_sse.feed(data, [this, &out](QByteArrayView event) { handleStreamEvent(event, out); });
    if (out.isEmpty()) {
        return;
    }
    if (!m_clientSawFirstByte) {
        m_clientSawFirstByte = true;
        m_clientTtftMs = millisecondsSince(m_setup.receivedAt);
        m_setup.route->stats->ttft.observeMs(m_clientTtftMs);
    }
    if (m_setup.cache) {
        m_setup.cache->appendStream(out);
    }
    m_writer.writeBody(out);
    if (m_writer.pendingBytes() > STREAM_HIGH_WATER_BYTES && m_transfer) {
        // A slow client must not make us buffer the whole stream: stop reading from
        // upstream until the client has taken what is queued.
        m_transfer->pauseReceiving();
        m_writer.setDrainedCallback([this] {
            if (m_transfer) {
                m_transfer->resumeReceiving();
            }
        });
    }
}

void ProxyExchange::handleStreamEvent(QByteArrayView event, QByteArray &out)
{
    if (m_resuming && m_continuation->isPreamble(event)) {
        return;
    }
    if (m_setup.trace) {
        m_setup.trace->observeAnswer(event);
    }
    if (mayCarryUsage(event)) {
        const SseEventFields fields = parseSseEvent(event);
        RequestInspector::Usage usage;
        if (m_worker.inspector().extractUsage(fields.data, usage)) {
            recordUsage(usage);
            if (m_injectedUsage && usage.choicesEmpty) {
                return; // the usage-only chunk we asked for; the client did not
            }
        }
    }
    ++m_streamedEvents;
    if (m_streamTranslator) {
        m_streamTranslator->translateEvent(event, out);
        return;
    }
    out.append(event.data(), event.size());
    if (m_continuation) {
        m_continuation->observe(event);
    }
}

void ProxyExchange::recordUsage(const RequestInspector::Usage &usage)
{
    // Anthropic reports input in message_start and the running output total in
    // message_delta; OpenAI reports both once. Later values replace earlier ones.
    if (usage.input >= 0) {
        m_tokensIn = usage.input;
    }
    if (usage.output >= 0) {
        m_tokensOut = usage.output;
    }
    if (usage.cachedInput >= 0) {
        m_cachedTokensIn = usage.cachedInput;
    }
}

void ProxyExchange::onComplete(const Upstream::TransferResult &result)
{
    if (m_mode == Mode::Streaming) {
        finishStream(result);
        return;
    }
    if (result.error != Upstream::TransferError::None) {
        Failure failure;
        failure.detail = result.errorText;
        switch (result.error) {
        case Upstream::TransferError::ConnectFailed:
            failure.errorClass = ErrorClass::UpstreamUnreachable;
            failure.retryClass = Runtime::RETRY_CONNECT_ERROR;
            failure.detail = "could not connect: " + result.errorText;
            break;
        case Upstream::TransferError::ConnectTimeout:
        case Upstream::TransferError::FirstByteTimeout:
        case Upstream::TransferError::IdleTimeout:
            failure.errorClass = ErrorClass::UpstreamTimeout;
            failure.retryClass = result.error == Upstream::TransferError::ConnectTimeout ? Runtime::RETRY_CONNECT_ERROR
                                                                                          : Runtime::RETRY_TIMEOUT;
            break;
        case Upstream::TransferError::Aborted:
            failure.errorClass = ErrorClass::UpstreamError;
            failure.detail = "the upstream response exceeds " + QByteArray::number(MAX_BUFFERED_RESPONSE_BYTES) + " bytes";
            failure.retryable = false;
            break;
        default:
            failure.errorClass = ErrorClass::UpstreamReset;
            failure.retryClass = Runtime::RETRY_SERVER_ERROR;
            failure.detail = "connection broken: " + result.errorText;
            break;
        }
        attemptFailed(std::move(failure));
        return;
    }
    if (m_upstreamStatus >= 200 && m_upstreamStatus < 300 && !m_resuming) {
        finishBuffered();
        return;
    }
    Failure failure;
    failure.upstreamStatus = m_upstreamStatus;
    failure.detail = "answered " + QByteArray::number(m_upstreamStatus) +
                     (m_buffer.isEmpty() ? QByteArray() : ": " + snippet(m_buffer));
    if (m_upstreamStatus == 429) {
        failure.errorClass = ErrorClass::RateLimited;
        failure.retryClass = Runtime::RETRY_RATE_LIMITED;
        failure.retryAfter = m_upstreamRetryAfter;
    } else if (m_upstreamStatus == 400 || m_upstreamStatus == 413 || m_upstreamStatus == 422) {
        failure.errorClass = ErrorClass::UpstreamClientError;
        const UpstreamRefusal refusal = classifyRefusal(m_buffer);
        if (refusal == UpstreamRefusal::ContextLength) {
            // Another target with a larger window may take it.
            failure.retryClass = Runtime::RETRY_CONTEXT_LENGTH;
        } else if (refusal == UpstreamRefusal::ContentFilter) {
            failure.retryClass = Runtime::RETRY_CONTENT_FILTER;
        } else {
            // The request itself was refused: another target would refuse it too.
            failure.retryable = false;
        }
    } else {
        // 5xx, or 401/403/404 meaning the gateway's key or model mapping is wrong for
        // this backend: another target may well succeed.
        failure.errorClass = ErrorClass::UpstreamError;
        failure.retryClass = Runtime::RETRY_SERVER_ERROR;
    }
    attemptFailed(std::move(failure));
}

void ProxyExchange::observeRateLimits(const Http::HeaderList &headers)
{
    const auto &provider = m_setup.table->providers()[static_cast<std::size_t>(m_attempts[m_attemptIndex].backend->providerIndex)];
    if (!provider.keys || m_run.key < 0) {
        return;
    }
    // The reader takes the header list as it is (no copies) and skips other names itself.
    Routing::RateLimitHeaders::Reader reader {QDateTime::currentMSecsSinceEpoch()};
    for (const auto &header : headers) {
        reader.add(header.name, header.value);
    }
    const qint64 now = Runtime::monotonicNowMs();
    const auto limits = reader.result();
    if (m_upstreamStatus == 429) {
        provider.keys->observe429(m_run.key, limits.retryAfterMs, now);
    } else if (!limits.isEmpty()) {
        provider.keys->observeHeaders(m_run.key, limits, now);
    }
}

void ProxyExchange::finishStream(const Upstream::TransferResult &result)
{
    const bool failed = result.error != Upstream::TransferError::None;
    ErrorClass errorClass = ErrorClass::UpstreamReset;
    if (result.error == Upstream::TransferError::FirstByteTimeout || result.error == Upstream::TransferError::IdleTimeout) {
        errorClass = ErrorClass::UpstreamTimeout;
    }
    m_transfer.reset();
    QByteArray out;
    const QByteArray remainder = m_sse.takeRemainder();
    // After a failure the remainder is a cut-off event: never forward half an event.
    if (!remainder.isEmpty() && !failed) {
        handleStreamEvent(remainder, out);
    }
    if (!failed && m_streamTranslator) {
        m_streamTranslator->finish(out);
    }
    endAttemptMetrics(failed, errorClass, failed ? QByteArrayView {result.errorText} : QByteArrayView {});
    if (!out.isEmpty()) {
        if (m_setup.cache) {
            m_setup.cache->appendStream(out);
        }
        m_writer.writeBody(out);
    }
    if (failed && resumeStream()) {
        return;
    }
    if (failed) {
        ErrorInfo error;
        error.status = errorClass == ErrorClass::UpstreamTimeout ? 504 : 502;
        error.code = errorClass == ErrorClass::UpstreamTimeout ? "upstream_timeout" : "upstream_reset";
        error.message = m_lastBackendLabel + " failed after the stream started: " + result.errorText +
                        "; the response is incomplete";
        endCommittedStream(error, errorClass);
        return;
    }
    m_writer.finish();
    completeRequest(false, errorClass);
}

bool ProxyExchange::resumeStream()
{
    // A translated stream is not resumed: the continuation is spliced in as the
    // upstream's own events, and the translator's state (block indices, the message
    // already started) would have to carry across two upstreams (docs/TRANSLATION.md).
    if (!m_resumable || !m_continuation->canResume() || m_resumptions >= MAX_STREAM_RESUMPTIONS || m_translated) {
        return false;
    }
    // Likewise a continuation is only asked of a target of the client's own format.
    const auto later = m_attempts.begin() + static_cast<std::ptrdiff_t>(m_attemptIndex + 1);
    m_attempts.erase(std::remove_if(later, m_attempts.end(), [this](const Attempt &attempt) { return needsTranslation(attempt); }),
                     m_attempts.end());
    if (!m_holdsRetry) {
        if (!m_setup.table->retryBudget().tryAcquireRetry()) {
            m_budgetExhausted = true;
            return false;
        }
        m_holdsRetry = true;
    }
    ++m_resumptions;
    m_resuming = true;
    if (m_setup.cache) {
        m_setup.cache->discard(); // a spliced answer is not stored
    }
    if (m_attemptIndex + 1 >= m_attempts.size()) {
        // No other target planned: the same backend may well answer a fresh request.
        m_attempts.push_back(m_attempts[m_attemptIndex]);
    }
    ++m_attemptIndex;
    noteAttempt(m_attemptIndex, "resumed");
    startAttempt();
    return true;
}

void ProxyExchange::endCommittedStream(const ErrorInfo &error, ErrorClass errorClass)
{
    // The client already has a 200 and part of the answer: the failure goes into the
    // stream, in the client's format, so it never looks like a complete answer.
    m_writer.writeBody(streamErrorEvent(errorShape(), error));
    m_writer.finish();
    completeRequest(true, errorClass);
}

void ProxyExchange::finishBuffered()
{
    RequestInspector::Usage usage;
    if (m_worker.inspector().extractUsage(m_buffer, usage)) {
        recordUsage(usage);
    }
    if (m_setup.trace) {
        m_setup.trace->observeAnswer(m_buffer);
    }
    endAttemptMetrics(false, ErrorClass::Count);
    m_transfer.reset();
    if (m_translated && !translateBufferedAnswer()) {
        return;
    }
    Http::HeaderList headers = responseHeaders();
    headers.push_back({QByteArrayLiteral("content-type"), m_upstreamContentType.isEmpty() || m_translated ? QByteArrayLiteral("application/json") : m_upstreamContentType});
    m_clientTtftMs = millisecondsSince(m_setup.receivedAt);
    m_setup.route->stats->ttft.observeMs(m_clientTtftMs);
    m_clientSawFirstByte = true;
    m_clientStatus = m_upstreamStatus;
    if (m_setup.cache) {
        m_setup.cache->setWholeAnswer(headers.back().value, m_buffer);
    }
    m_writer.respond(m_upstreamStatus, headers, m_buffer);
    completeRequest(false, ErrorClass::Count);
}

bool ProxyExchange::translateBufferedAnswer()
{
    auto translated = clientFormat() == Config::WireFormat::Anthropic
                          ? Translate::anthropicResponseFromOpenAi(m_buffer)
                          : Translate::openAiResponseFromAnthropic(m_buffer, QDateTime::currentSecsSinceEpoch());
    if (!translated) {
        respondError(502, ErrorClass::UpstreamError,
                     m_lastBackendLabel + " answered in a shape that could not be translated: " + translated.error(),
                     "upstream_error");
        return false;
    }
    m_buffer = std::move(translated.value());
    return true;
}

void ProxyExchange::attemptFailed(Failure failure)
{
    endAttemptMetrics(true, failure.errorClass, failure.detail);
    m_transfer.reset();
    if (m_hedge && m_hedge->inFlight()) {
        return; // the backup is already running: its answer decides
    }
    m_hedgeTimer.reset();
    if (failure.errorClass == ErrorClass::RateLimited || failure.upstreamStatus == 401 || failure.upstreamStatus == 403) {
        m_failedKey = m_run.key;
        retryOnAnotherKey();
    }
    if (failure.retryable) {
        insertClassFallbacks(failure.retryClass);
    }
    if (shouldRetry(failure)) {
        ++m_attemptIndex;
        if (failure.retryClass == Runtime::RETRY_CONTEXT_LENGTH) {
            skipSmallerContextWindows(m_attempts[m_attemptIndex - 1].backend->contextWindow);
        }
        if (m_attemptIndex < m_attempts.size()) {
            startAttempt();
            return;
        }
        --m_attemptIndex;
    }
    if (m_clientStatus != 0) {
        // A continuation of a committed stream failed too.
        ErrorInfo error;
        error.status = 502;
        error.code = "upstream_error";
        error.message = "resuming the stream on " + m_lastBackendLabel + " failed: " + failure.detail +
                        "; the response is incomplete";
        endCommittedStream(error, failure.errorClass);
        return;
    }
    if (failure.errorClass == ErrorClass::UpstreamClientError && m_buffer.size() <= MAX_ERROR_BODY_BYTES) {
        // Pass the upstream's own explanation through: unchanged, or in the client's
        // format when the target speaks the other one.
        Http::HeaderList headers = responseHeaders();
        int status = m_upstreamStatus;
        if (m_translated) {
            const Config::WireFormat upstream =
                clientFormat() == Config::WireFormat::OpenAi ? Config::WireFormat::Anthropic : Config::WireFormat::OpenAi;
            Translate::TranslatedError translated = Translate::translateErrorResponse(upstream, clientFormat(), status, m_buffer);
            status = translated.status;
            m_buffer = std::move(translated.body);
            m_upstreamContentType = "application/json";
        }
        headers.push_back({QByteArrayLiteral("content-type"), m_upstreamContentType.isEmpty() ? QByteArrayLiteral("application/json") : m_upstreamContentType});
        m_clientStatus = status;
        m_writer.respond(status, headers, m_buffer);
        completeRequest(true, failure.errorClass);
        return;
    }
    respondWithFailure(failure);
}

void ProxyExchange::respondWithFailure(const Failure &failure)
{
    QByteArray message;
    if (m_attempts.size() > 1) {
        message = "all " + QByteArray::number(static_cast<qulonglong>(m_attemptIndex + 1)) + " attempts for model '" +
                  m_setup.route->model + "' failed; last: ";
    }
    message += m_lastBackendLabel + ' ' + failure.detail;
    if (m_residencyExclusions > 0) {
        // Say why a fallback that exists was not tried.
        message += "; targets outside the allowed regions (" +
                   m_setup.table->regions().describe(m_setup.regions.intersected(m_setup.route->regions)) +
                   ") were not tried (data residency)";
    }
    switch (failure.errorClass) {
    case ErrorClass::UpstreamUnreachable:
        respondError(502, failure.errorClass, message, "upstream_unreachable");
        break;
    case ErrorClass::UpstreamTimeout:
        respondError(504, failure.errorClass, message, "upstream_timeout");
        break;
    case ErrorClass::UpstreamReset:
        respondError(502, failure.errorClass, message, "upstream_reset");
        break;
    case ErrorClass::RateLimited:
        respondError(429, failure.errorClass, message, "rate_limited", failure.retryAfter);
        break;
    default:
        respondError(502, failure.errorClass, message, "upstream_error");
        break;
    }
}

void ProxyExchange::respondError(int status, ErrorClass errorClass, QByteArray message, QByteArray code,
                                 QByteArray retryAfter)
{
    ErrorInfo error;
    error.status = status;
    error.message = std::move(message);
    error.code = std::move(code);
    Http::HeaderList headers = responseHeaders();
    headers.push_back({QByteArrayLiteral("content-type"), QByteArrayLiteral("application/json")});
    if (!retryAfter.isEmpty()) {
        headers.push_back({QByteArrayLiteral("retry-after"), retryAfter});
    }
    m_clientStatus = status;
    m_writer.respond(status, headers, errorBody(errorShape(), error));
    completeRequest(true, errorClass);
}

void ProxyExchange::insertClassFallbacks(unsigned retryClass)
{
    // retry.fallbacks: after a failure of this class, the routes named for it come next,
    // ahead of the rest of the plan (once per class), within the route's attempts.
    if (retryClass == 0 || (m_classFallbacksUsed & retryClass) != 0) {
        return;
    }
    const auto &table = *m_setup.table;
    for (const auto &[bits, routes] : m_setup.route->classFallbacks) {
        if ((bits & retryClass) == 0) {
            continue;
        }
        m_classFallbacksUsed |= retryClass;
        const Routing::RequestSummary summary = requestSummary(m_setup.inspected, m_setup.sessionKey);
        const Routing::BackendSnapshot &snapshot = m_worker.routingSnapshot(table, Runtime::monotonicNowMs());
        AttemptPlanner planner {table, m_setup.endpoint, m_worker.rng(), m_setup.regions};
        std::vector<Attempt> extra;
        for (const int routeIndex : routes) {
            planner.plan(*table.routes()[static_cast<std::size_t>(routeIndex)], summary, snapshot, {}, extra, nullptr);
        }
        keepTranslatableAttempts(extra);
        m_residencyExclusions = std::max(m_residencyExclusions, planner.residencyExclusions());
        // Backends already tried are not tried again.
        std::erase_if(extra, [this](const Attempt &candidate) {
            for (std::size_t i = 0; i <= m_attemptIndex; ++i) {
                if (m_attempts[i].backend == candidate.backend) {
                    return true;
                }
            }
            return false;
        });
        m_attempts.insert(m_attempts.begin() + static_cast<std::ptrdiff_t>(m_attemptIndex + 1), extra.begin(), extra.end());
        const auto limit = static_cast<std::size_t>(std::max(1, m_setup.route->maxAttempts));
        if (m_attempts.size() > limit) {
            m_attempts.resize(std::max(limit, m_attemptIndex + 1));
        }
        if (m_setup.explain && !extra.empty()) {
            m_explain += "; class fallback -> " + table.routes()[static_cast<std::size_t>(routes.front())]->model;
        }
        return;
    }
}

void ProxyExchange::retryOnAnotherKey()
{
    // A 429 is about the key, not the backend: the same backend with another key comes
    // next (the pool has cooled the limited key down, so it will not be picked again),
    // within the route's attempts.
    const Attempt attempt = m_attempts[m_attemptIndex];
    const auto &provider = m_setup.table->providers()[static_cast<std::size_t>(attempt.backend->providerIndex)];
    if (!provider.keys || provider.keys->size() < 2 ||
        m_attemptIndex + 1 >= static_cast<std::size_t>(std::max(1, m_setup.route->maxAttempts))) {
        return;
    }
    m_attempts.insert(m_attempts.begin() + static_cast<std::ptrdiff_t>(m_attemptIndex + 1), attempt);
    if (m_attempts.size() > static_cast<std::size_t>(m_setup.route->maxAttempts)) {
        m_attempts.pop_back();
    }
}

void ProxyExchange::skipSmallerContextWindows(qint64 refusedWindow)
{
    // A target whose window is no larger than the one that refused would refuse too.
    while (m_attemptIndex + 1 < m_attempts.size()) {
        const qint64 window = m_attempts[m_attemptIndex].backend->contextWindow;
        if (refusedWindow <= 0 || window <= 0 || window > refusedWindow) {
            return;
        }
        noteAttempt(m_attemptIndex, "skipped(context window too small)");
        ++m_attemptIndex;
    }
}

void ProxyExchange::endAttemptMetrics(bool failed, ErrorClass errorClass, QByteArrayView reason)
{
    endRunMetrics(m_run, m_upstreamStatus, failed, errorClass, reason);
}

void ProxyExchange::endRunMetrics(AttemptRun &run, int upstreamStatus, bool failed, ErrorClass errorClass,
                                  QByteArrayView reason)
{
    if (!run.inFlight) {
        return;
    }
    run.inFlight = false;
    const Attempt &attempt = m_attempts[run.index];
    auto &stats = *attempt.backend->stats;
    stats.inFlight.fetch_sub(1, std::memory_order_relaxed);
    const double latencyMs = millisecondsSince(run.startedAt);
    stats.latency.observeMs(latencyMs);
    if (m_setup.trace) {
        // The handle stays in the run: finishTrace() names the attempt that answered.
        traceAttemptEnd(run.traceAttempt, upstreamStatus, failed, errorClass == ErrorClass::ClientClosed,
                        Metrics::errorClassName(errorClass).toByteArray(), reason, run.ttftMs);
    }
    if (failed && errorClass != ErrorClass::Count) {
        stats.errors[static_cast<std::size_t>(errorClass)].fetch_add(1, std::memory_order_relaxed);
    }

    // What the routing engine learns. Client errors, 429s (the key's business) and the
    // client hanging up say nothing about the backend's health.
    Runtime::AttemptOutcome outcome;
    outcome.failed = failed;
    const auto &provider = m_setup.table->providers()[static_cast<std::size_t>(attempt.backend->providerIndex)];
    // A 401/403 with a key pool is that key's fault (revoked, no access), held against the
    // key's own circuit below, not against the backend.
    const bool keyFault = provider.keys && run.key >= 0 && (upstreamStatus == 401 || upstreamStatus == 403);
    outcome.countsAgainstBackend = errorClass != ErrorClass::ClientClosed && errorClass != ErrorClass::RateLimited &&
                                   errorClass != ErrorClass::UpstreamClientError && !keyFault;
    outcome.reason = reason.toByteArray();
    outcome.latencyMs = latencyMs;
    outcome.ttftMs = run.ttftMs;
    outcome.outputTokens = failed ? -1 : m_tokensOut;
    outcome.wasProbe = run.probe;
    const qint64 now = Runtime::monotonicNowMs();
    if (attempt.backend->monitor->finished(tokenLoad(run.prefill.tokens), run.prefill, outcome, now)) {
        m_setup.table->snapshots().markStale();
    }
    if (provider.keys && run.key >= 0) {
        const qint64 actual = failed ? 0 : std::max<qint64>(0, m_tokensIn) + std::max<qint64>(0, m_tokensOut);
        provider.keys->settle(run.key, m_expectedTokens, actual, now);
        // The key's own circuit: 401/403 mean this key is revoked or lacks access (another
        // key may work); anything else the key answered says it is fine. A 429 is the
        // pool's cool-down business, and an abandoned attempt says nothing.
        if (upstreamStatus == 401 || upstreamStatus == 403) {
            provider.keys->recordFailure(run.key, now, QByteArray("answered " + QByteArray::number(upstreamStatus)), run.keyProbe);
        } else if (upstreamStatus > 0 && upstreamStatus != 429 && errorClass != ErrorClass::ClientClosed) {
            provider.keys->recordSuccess(run.key, now, run.keyProbe); // also ends a 429 backoff
        } else if (run.keyProbe) {
            provider.keys->health(run.key).cancelProbe();
        }
    }
    if (errorClass == ErrorClass::ClientClosed) {
        noteAttempt(run.index, m_completed || m_clientStatus != 0 ? "cancelled" : "client closed");
    } else if (failed) {
        noteAttempt(run.index, upstreamStatus > 0 ? QByteArray::number(upstreamStatus)
                                                  : Metrics::errorClassName(errorClass).toByteArray());
    } else {
        noteAttempt(run.index, QByteArray(QByteArray::number(upstreamStatus) + (needsTranslation(attempt) ? "(translated)" : "")));
    }
}

void ProxyExchange::completeRequest(bool failed, ErrorClass errorClass)
{
    if (m_completed) {
        return;
    }
    m_completed = true;
    // Governance: the reservation's estimate gives way to what was really used.
    const GovernanceGate::Charge used = charge();
    m_costNanos = used.costNanos;
    GovernanceGate {m_worker.environment()}.settle(m_setup.reservation, used);
    if (m_setup.cache && !failed) {
        m_setup.cache->complete(m_clientStatus, m_tokensIn, m_tokensOut, m_costNanos);
    }
    if (!failed && m_tokensOut >= 0 && m_setup.route->outputTokens) {
        m_setup.route->outputTokens->observe(m_tokensOut);
    }
    // The slot goes back as soon as the answer is done; only a success teaches the queue
    // how fast the group drains (a failure or an abandoned request says nothing of it).
    if (failed) {
        m_ticket.release(Runtime::monotonicNowMs());
    } else {
        m_ticket.complete(Runtime::monotonicNowMs());
    }
    cancelHedge();
    if (m_hedgeBudget) {
        m_hedgeBudget->requestFinished();
    }
    auto &budget = m_setup.table->retryBudget();
    if (m_holdsRetry) {
        budget.releaseRetry();
    }
    budget.requestFinished();
    auto &route = *m_setup.route->stats;
    route.requests.fetch_add(1, std::memory_order_relaxed);
    route.latency.observeMs(millisecondsSince(m_setup.receivedAt));
    if (failed) {
        route.errors[static_cast<std::size_t>(errorClass)].fetch_add(1, std::memory_order_relaxed);
    } else if (m_attemptIndex > 0) {
        route.fallbacks.fetch_add(1, std::memory_order_relaxed);
        if (RequestLogSink *events = m_worker.environment().requestLog) {
            QByteArray tried;
            for (std::size_t i = 0; i < m_attemptIndex; ++i) {
                tried += (i == 0 ? "" : ",") + Json::quoted(m_attempts[i].backend->label);
            }
            events->recordEvent(QString(EventKinds::FAILOVER), QString::fromUtf8(m_setup.route->model),
                                "{\"request_id\":" + Json::quoted(m_setup.requestId) + ",\"failed\":[" + tried +
                                    "],\"answered_by\":" + Json::quoted(m_lastBackendLabel) + '}');
        }
    }
    RequestLogSink *log = m_worker.environment().requestLog;
    if (log && m_setup.table->policy().requestLog.enabled) {
        RequestLogEntry entry;
        entry.finishedAtMs = QDateTime::currentMSecsSinceEpoch();
        entry.requestId = m_setup.requestId;
        entry.virtualKey = m_setup.virtualKey;
        entry.route = m_setup.route->model;
        entry.backend = m_lastBackendLabel;
        entry.endpoint = m_setup.request.path;
        entry.status = m_clientStatus;
        if (failed) {
            entry.errorClass = Metrics::errorClassName(errorClass).toByteArray();
        }
        entry.latencyMs = millisecondsSince(m_setup.receivedAt);
        entry.ttftMs = m_clientTtftMs;
        entry.tokensIn = m_tokensIn;
        entry.tokensOut = m_tokensOut;
        entry.attempts = m_attempts.empty() ? 0 : static_cast<int>(m_attemptIndex + 1);
        entry.stream = m_setup.inspected.stream;
        entry.routeReason = routeReason();
        entry.costUsd = Governance::nanosToUsd(m_costNanos);
        entry.cache = m_setup.cache ? m_setup.cache->header() : QByteArray();
        log->record(std::move(entry));
    }
    if (Metrics::ArmStats *arm = m_setup.arm) {
        arm->requests.fetch_add(1, std::memory_order_relaxed);
        if (failed) {
            arm->errors.fetch_add(1, std::memory_order_relaxed);
        }
        arm->latency.observeMs(millisecondsSince(m_setup.receivedAt));
        if (m_clientTtftMs >= 0) {
            arm->ttft.observeMs(m_clientTtftMs);
        }
        arm->tokensIn.fetch_add(static_cast<std::uint64_t>(std::max<qint64>(0, m_tokensIn)), std::memory_order_relaxed);
        arm->tokensOut.fetch_add(static_cast<std::uint64_t>(std::max<qint64>(0, m_tokensOut)), std::memory_order_relaxed);
        arm->costMicros.fetch_add(static_cast<std::uint64_t>(std::max<qint64>(0, m_costNanos / 1000)), std::memory_order_relaxed);
    }
    if (m_tokensIn > 0 || m_tokensOut > 0) {
        const auto in = static_cast<std::uint64_t>(std::max<qint64>(0, m_tokensIn));
        const auto out = static_cast<std::uint64_t>(std::max<qint64>(0, m_tokensOut));
        route.tokensIn.fetch_add(in, std::memory_order_relaxed);
        route.tokensOut.fetch_add(out, std::memory_order_relaxed);
        if (m_attemptIndex < m_attempts.size()) {
            auto &backend = *m_attempts[m_attemptIndex].backend->stats;
            backend.tokensIn.fetch_add(in, std::memory_order_relaxed);
            backend.tokensOut.fetch_add(out, std::memory_order_relaxed);
        }
    }
    if (m_setup.trace) {
        finishTrace(failed, errorClass);
    }
}

// Tracing hooks (docs/TRACING.md): the spans themselves are built in gateway/tracing/.

int ProxyExchange::traceAttempt(const Attempt &attempt, Tracing::RequestTrace::AttemptKind kind, bool probe,
                                Upstream::UpstreamRequest &request)
{
    Tracing::RequestTrace::AttemptStart start;
    start.provider = &m_setup.table->providers()[static_cast<std::size_t>(attempt.backend->providerIndex)];
    start.backend = attempt.backend;
    start.route = attempt.route->model;
    start.kind = kind;
    start.probe = probe;
    start.predictedCachedTokens = attempt.cachedPromptTokens;
    return m_setup.trace->beginAttempt(start, request.headers);
}

void ProxyExchange::traceAttemptEnd(int handle, int status, bool failed, bool cancelled, QByteArray errorType,
                                    QByteArrayView reason, double ttftMs)
{
    Tracing::RequestTrace::AttemptEnd end;
    end.status = status;
    end.failed = failed;
    end.cancelled = cancelled;
    end.errorType = std::move(errorType);
    end.reason = reason.toByteArray();
    end.ttftMs = ttftMs;
    end.tokensIn = failed ? -1 : m_tokensIn;
    end.tokensOut = failed ? -1 : m_tokensOut;
    m_setup.trace->endAttempt(handle, end);
}

void ProxyExchange::finishTrace(bool failed, ErrorClass errorClass)
{
    if (!m_setup.trace->recording()) {
        return; // it only passed a caller's traceparent on
    }
    Tracing::RequestTrace::Finish finish;
    finish.clientStatus = m_clientStatus;
    finish.failed = failed;
    finish.errorType = Metrics::errorClassName(errorClass).toByteArray();
    finish.route = m_setup.route->model;
    finish.routeReason = routeReason();
    finish.pdDecision = m_pdReason;
    finish.backend = m_lastBackendLabel;
    finish.answeringAttempt = failed ? -1 : m_run.traceAttempt;
    finish.attempts = m_attempts.empty() ? 0 : static_cast<int>(m_attemptIndex + 1);
    finish.tokensIn = m_tokensIn;
    finish.tokensOut = m_tokensOut;
    finish.cachedTokensIn = m_cachedTokensIn;
    finish.ttftMs = m_clientTtftMs;
    finish.queueWaitMs = m_queueWaitMs;
    m_setup.trace->finish(finish);
}

} // namespace Gateway::Proxy
