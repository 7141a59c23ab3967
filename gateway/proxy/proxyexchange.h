#pragma once

#include "admission/admissionqueue.h"
#include "attemptplanner.h"
#include "attemptrun.h"
#include "cache/answercapture.h"
#include "errorresponse.h"
#include "governancegate.h"
#include "requestinspector.h"
#include "inspectedrequest.h"
#include "metrics/errorclass.h"
#include "runtime/backendmonitor.h"
#include "runtime/routetable.h"
#include "sseeventsplitter.h"
#include "streamcontinuation.h"
#include "tokenize/tokencounter.h"
#include "tracing/requesttrace.h"
#include "translate/streamtranslator.h"
#include "translate/translationerror.h"
#include "upstream/curlmulti.h"

#include "http/requesthandler.h"

#include <QTimer>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

namespace Gateway::Routing {
class RetryBudget;
}

namespace Gateway::Proxy {

class DisaggregatedPrefill;
class HedgeAttempt;
class WorkerContext;

// What a routing policy may know about a request (no body), from its inspection.
Routing::RequestSummary requestSummary(const InspectedRequest &inspected, const QByteArray &sessionKey);

// One client request being proxied: tries the ranked targets of its route, then its
// fallback routes, until one answers; streams or buffers the answer to the client;
// accounts tokens, latency and errors. Retries happen only before the first byte was
// sent to the client. Destroying it cancels the upstream transfer in progress.
class ProxyExchange final : public Http::Exchange, private Upstream::TransferObserver {
public:
    using Clock = std::chrono::steady_clock;

    struct Setup {
        std::shared_ptr<const Runtime::RouteTable> table;
        const Runtime::RouteRuntime *route = nullptr;
        Runtime::Endpoint endpoint = Runtime::Endpoint::ChatCompletions;
        Http::Request request;
        InspectedRequest inspected;
        QByteArray requestId;
        QString virtualKey; // name of the client's key, if keys are configured
        QByteArray sessionKey; // from routing.session_key_sources; empty = none
        // Build the route reason: x-switchyard-explain: 1 asked for it, or the request is
        // traced (its spans carry it). Only the former sends x-switchyard-route-reason.
        bool explain = false;
        bool explainHeader = false;
        // Set by conditional rules: indices into route->targets the request may use;
        // empty = all of them.
        std::vector<int> allowedTargets;
        // The traffic-split arm the request was assigned to, if any.
        Metrics::ArmStats *arm = nullptr;
        QByteArray ruleReason; // which rule or arm decided, for the route reason
        Clock::time_point receivedAt;
        // Admission class (routes with a queue): the x-priority header, else the virtual
        // key's class, else standard.
        Admission::PriorityClass priority = Admission::DEFAULT_PRIORITY_CLASS;
        // Governance: what was reserved against the key's and team's limits (inactive
        // when nothing is enforced), and the estimate it was made from.
        Governance::Reservation reservation;
        GovernanceGate::Estimate estimate;
        // Data residency: the key's (and team's) regions and the requested route's; the
        // plan never leaves them (AttemptPlanner).
        Runtime::RegionSet regions;
        // Cached routes (gateway/cache): marks the answer as a miss or bypass and stores
        // it when it completes; null elsewhere.
        std::unique_ptr<Cache::AnswerCapture> cache;
        // Tracing (docs/TRACING.md): null unless the request is traced or forwards a
        // caller's traceparent.
        std::unique_ptr<Tracing::RequestTrace> trace;
    };

    ProxyExchange(WorkerContext &worker, Setup &&setup, Http::ResponseWriter &writer);
    ~ProxyExchange() override;
    ProxyExchange(const ProxyExchange &) = delete;
    ProxyExchange &operator=(const ProxyExchange &) = delete;

    // Plans the attempts and starts the first. Returns false if the response was
    // already written (no target can serve the endpoint).
    bool start();

private:
    enum class Mode { Waiting, Streaming, Buffering, DiscardingError };

    using Attempt = PlannedAttempt;

    struct Failure {
        Metrics::ErrorClass errorClass = Metrics::ErrorClass::UpstreamError;
        int upstreamStatus = 0;
        QByteArray detail;
        QByteArray retryAfter;
        bool retryable = true;
        unsigned retryClass = 0; // Runtime::RetryClass bit; retried only if the route lists it
    };

    void planAttempts();
    // Cross-format attempts (gateway/translate): the client's format, whether an attempt
    // changes format, and the upstream body for one. A request that cannot be translated
    // (audio parts, n > 1, ...) loses its cross-format attempts; the reason is kept for
    // the 400 when no other attempt is left.
    Config::WireFormat clientFormat() const;
    bool needsTranslation(const Attempt &attempt) const;
    void keepTranslatableAttempts(std::vector<Attempt> &attempts);
    Expected<QByteArray, Translate::TranslationError> translatedBody(const Attempt &attempt);
    // The buffered answer (2xx) in the client's format; false after a 502 was sent.
    bool translateBufferedAnswer();
    // The attempts for the route as things stand now, into `attempts`.
    void planRoute(std::vector<Attempt> &attempts, QByteArray *explain);
    void startAttempt();
    // Routes with a prefill pool, once per request: decides (Routing::decidePrefillDecode)
    // on the first admitted decode target and, when disaggregating, starts the prefill
    // step. True when the step is under way (prefillCompleted() then sends the attempt).
    bool startPrefill();
    // Starts the step on the next planned prefill target that admits it; false when none
    // is left (the request then runs aggregated).
    bool startNextPrefill();
    void prefillCompleted();
    void countPrefillFailure(const PlannedAttempt &prefill);
    QByteArray pdRequestIdHeader() const;
    // Sends the admitted attempt m_attemptIndex.
    void sendAttempt();
    // Admission control, for routes with a queue. Asks the route's queue for a slot:
    // false when the request was refused at once (the 429 is written).
    bool admitToQueue();
    // The queue's verdict on a waiting request, on this exchange's thread.
    void waitResolved(Admission::WaitResult result);
    // The max wait of a waiter of this queue may have passed: lets the queue time it out.
    void expireWaiters();
    void armWaitTimer(qint64 atMs);
    void respondRefused(Admission::Verdict verdict, const Admission::Refusal &refusal);
    // Skips attempts whose backend refuses admission (open circuit, probe slots taken) or
    // whose provider has no key with headroom; false when none is left.
    bool admitAttempt();
    bool shouldRetry(const Failure &failure);
    void noteAttempt(std::size_t index, QByteArrayView what);
    void skipSmallerContextWindows(qint64 refusedWindow);
    void retryOnAnotherKey();
    void insertClassFallbacks(unsigned retryClass);
    void observeRateLimits(const Http::HeaderList &headers);
    QByteArray routeReason() const;
    // Continues a stream that failed after the commit point on another target, when the
    // route allows it; false when it cannot.
    bool resumeStream();
    void endCommittedStream(const ErrorInfo &error, Metrics::ErrorClass errorClass);
    // What the request used and costs, by the rule in docs/GOVERNANCE.md: the usage
    // the provider reported; else, for a stream cut short or a request abandoned while
    // upstream, the prompt estimate and one token per event forwarded; else nothing.
    GovernanceGate::Charge charge() const;
    // Exact prompt tokens of the request's message text for `model` (settlements only).
    qint64 countPromptTokens(const Tokenize::TokenCounter &counter, const QString &model) const;
    const Config::Route &routeConfig() const;
    Upstream::UpstreamRequest buildUpstreamRequest(const Attempt &attempt, int key);
    bool admitRun(std::size_t index, AttemptRun &run, qint64 now, bool lastChance);
    void beginRun(AttemptRun &run, bool prefilledRemotely = false);
    // The run's token load as its backend counts it (expected, pending prefill, decode).
    Runtime::BackendMonitor::TokenLoad tokenLoad(std::int64_t prefillTokens) const;
    // The first body byte arrived: the run's prompt is prefilled.
    void prefillDone(AttemptRun &run);
    // Hedging (non-streaming routes with hedge.enabled).
    void armHedge();
    void launchHedge();
    void hedgeCompleted(HedgeAttempt &hedge);
    void releaseHedgeSlot();
    void cancelHedge();

    // TransferObserver
    void onResponseHead(int status, const Http::HeaderList &headers) override;
    bool onResponseData(QByteArrayView data) override;
    void onComplete(const Upstream::TransferResult &result) override;

    void forwardStreamData(QByteArrayView data);
    void handleStreamEvent(QByteArrayView event, QByteArray &out);
    void finishStream(const Upstream::TransferResult &result);
    void finishBuffered();
    void attemptFailed(Failure failure);
    void respondWithFailure(const Failure &failure);
    void respondError(int status, Metrics::ErrorClass errorClass, QByteArray message, QByteArray code,
                      QByteArray retryAfter = {});
    void endAttemptMetrics(bool failed, Metrics::ErrorClass errorClass, QByteArrayView reason = {});
    void endRunMetrics(AttemptRun &run, int upstreamStatus, bool failed, Metrics::ErrorClass errorClass,
                       QByteArrayView reason);
    void recordUsage(const RequestInspector::Usage &usage);
    void completeRequest(bool failed, Metrics::ErrorClass errorClass);
    Http::HeaderList responseHeaders() const;
    ErrorShape errorShape() const;
    bool wantsInjectedUsage(const Attempt &attempt) const;
    // Tracing hooks (only called with m_setup.trace set): an attempt's span, opened with
    // its traceparent added to `request`, and closed; the request's span at completion.
    int traceAttempt(const Attempt &attempt, Tracing::RequestTrace::AttemptKind kind, bool probe,
                     Upstream::UpstreamRequest &request);
    void traceAttemptEnd(int handle, int status, bool failed, bool cancelled, QByteArray errorType, QByteArrayView reason,
                         double ttftMs);
    void finishTrace(bool failed, Metrics::ErrorClass errorClass);

    WorkerContext &m_worker;
    Setup m_setup;
    Http::ResponseWriter &m_writer;

    std::vector<Attempt> m_attempts;
    std::size_t m_attemptIndex = 0;
    std::unique_ptr<Upstream::Transfer> m_transfer;
    AttemptRun m_run; // the current main attempt
    bool m_injectedUsage = false;
    std::int64_t m_expectedTokens = 0; // what one attempt adds to a backend's token load
    bool m_holdsRetry = false;         // a retry-budget slot is taken
    bool m_budgetExhausted = false;
    QByteArray m_explain;              // the route reason, when asked for
    QByteArray m_attemptTrail;         // "backend:outcome>..." for the route reason
    std::unique_ptr<StreamContinuation> m_continuation; // routes with stream_resumption only
    bool m_translated = false; // the current attempt's target speaks the other format
    bool m_translationChecked = false;
    std::optional<Translate::TranslationError> m_translationError;
    QByteArray m_translatedModel; // the upstream model m_translatedBody was made for
    QByteArray m_translatedBody;  // kept: the check at planning time is usually the body sent
    std::unique_ptr<Translate::StreamTranslator> m_streamTranslator; // a committed translated stream
    bool m_resuming = false;           // the current attempt continues a committed stream
    Routing::RetryBudget *m_hedgeBudget = nullptr; // set when the route hedges this request
    std::unique_ptr<QTimer> m_hedgeTimer;
    std::unique_ptr<HedgeAttempt> m_hedge;
    bool m_holdsHedge = false;
    int m_failedKey = -1; // key that just failed on its own account (401/403/429)
    unsigned m_classFallbacksUsed = 0; // RetryClass bits whose retry.fallbacks were planned in
    bool m_hedgeBudgetExhausted = false;
    int m_resumptions = 0;
    int m_residencyExclusions = 0; // targets the plans left out for their region
    QString m_awaitingProvider;    // a provider left out: discovery found no server yet
    bool m_resumable = false;      // stream_resumption on a chat stream (m_continuation is set)

    // Prefill/decode disaggregation (routes with a prefill pool). The prefill step's
    // completion is posted to `m_prefillContext`, deleted with the exchange. Its
    // kv_transfer_params go into the next attempt's body only.
    bool m_pdDecided = false;
    std::vector<PlannedAttempt> m_prefillPlan; // best first; a failed step moves on once
    std::size_t m_prefillNext = 0;
    std::unique_ptr<DisaggregatedPrefill> m_prefill;
    std::unique_ptr<QObject> m_prefillContext;
    QByteArray m_kvTransferParams;
    QByteArray m_pdReason; // the decision, in the route reason
    int m_prefillTrace = -1; // the prefill step's span in the request's trace

    // Admission control (routes whose targets have max_concurrency). The slot is held
    // from the grant to the end of the answer, across retries and resumptions; giving it
    // back lets the next waiter through. While the request waits, `m_wait` is its place
    // (destroying it leaves the queue) and the verdict is posted to `m_waitContext` on
    // this thread; deleting the context discards a verdict still on its way, whose ticket
    // then gives its slot back.
    Admission::SlotTicket m_ticket;
    std::unique_ptr<QObject> m_waitContext;
    Admission::WaitHandle m_wait; // after the context: destroyed (cancelled) before it
    std::unique_ptr<QTimer> m_waitTimer; // drives the queue's expire() at the max wait
    qint64 m_queueWaitMs = -1;           // time spent waiting for a slot; -1 = did not wait

    Mode m_mode = Mode::Waiting;
    int m_upstreamStatus = 0;
    QByteArray m_upstreamContentType;
    QByteArray m_upstreamRetryAfter;
    QByteArray m_buffer; // a buffered answer, or the start of an upstream error body
    SseEventSplitter m_sse;
    bool m_clientSawFirstByte = false;
    qint64 m_tokensIn = -1;
    qint64 m_tokensOut = -1;
    qint64 m_cachedTokensIn = -1;
    qint64 m_streamedEvents = 0;     // SSE events forwarded to the client
    bool m_abandonedInFlight = false; // the client left while an attempt was upstream
    qint64 m_costNanos = 0;          // set when the request completes
    bool m_completed = false;
    int m_clientStatus = 0; // status line sent to the client
    double m_clientTtftMs = -1;
    QByteArray m_lastBackendLabel;
};

} // namespace Gateway::Proxy
