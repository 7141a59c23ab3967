#include "simstate.h"

#include "simhandler.h"

#include <QMutexLocker>

#include <algorithm>

namespace Gateway::Sim {

namespace {

// Distinct prompt prefixes remembered by the simulated prefix cache (FIFO eviction).
constexpr std::size_t PREFIX_CACHE_ENTRIES = 1024;
// vLLM's default KV block size; num_gpu_blocks is derived from capacityTokens with it.
constexpr int KV_BLOCK_SIZE = 16;
constexpr quint32 DEFAULT_SEED = 42;

QByteArray metricLine(QByteArrayView name, const QByteArray &labels, const QByteArray &value)
{
    return name.toByteArray() + '{' + labels + "} " + value + '\n';
}

QByteArray header(QByteArrayView name, QByteArrayView help, QByteArrayView type)
{
    return "# HELP " + name.toByteArray() + ' ' + help.toByteArray() + "\n# TYPE " + name.toByteArray() + ' ' +
           type.toByteArray() + '\n';
}

QByteArray counterValue(qint64 value)
{
    return QByteArray::number(value) + ".0";
}

} // namespace

SimState::SimState(QString name, Flavor flavor)
    : m_name {std::move(name)}
    , m_nameHeader {m_name.toUtf8()}
    , m_flavor {flavor}
    , m_rng {DEFAULT_SEED}
    , m_models {QByteArrayLiteral("sim-model")}
{
}

void SimState::setBehaviour(const Behaviour &behaviour)
{
    const QMutexLocker locker {&m_mutex};
    m_behaviour = behaviour;
}

Behaviour SimState::behaviour() const
{
    const QMutexLocker locker {&m_mutex};
    return m_behaviour;
}

void SimState::setSeed(quint32 seed)
{
    const QMutexLocker locker {&m_mutex};
    m_rng.seed(seed);
}

void SimState::setModels(const QList<QByteArray> &models)
{
    const QMutexLocker locker {&m_mutex};
    m_models = models;
}

QList<QByteArray> SimState::models() const
{
    const QMutexLocker locker {&m_mutex};
    return m_models;
}

SimState::Admission SimState::admit(const Http::Request &request)
{
    m_counters.requestsReceived.fetch_add(1, std::memory_order_relaxed);
    const QMutexLocker locker {&m_mutex};
    m_lastBody = request.body;
    m_lastHeaders = request.headers;

    Admission admission;
    admission.behaviour = m_behaviour;
    QByteArray key = request.header("x-api-key");
    if (key.isEmpty()) {
        key = request.header("authorization");
        if (key.startsWith("Bearer ")) {
            key = key.mid(7);
        }
    }
    ++m_requestsByKey[key];
    if (!m_behaviour.rejectedKey.isEmpty() && key == m_behaviour.rejectedKey) {
        admission.verdict = Verdict::Unauthorized;
        return admission;
    }
    if (!m_behaviour.rateLimitedKey.isEmpty() && key == m_behaviour.rateLimitedKey) {
        admission.verdict = Verdict::RateLimit;
        return admission;
    }
    if (m_behaviour.failNextRequests > 0) {
        --m_behaviour.failNextRequests;
        admission.verdict = Verdict::Fail;
        m_counters.failuresInjected.fetch_add(1, std::memory_order_relaxed);
        return admission;
    }
    // Always draw both numbers so one rate does not shift the other's sequence.
    std::uniform_real_distribution<double> uniform {0.0, 1.0};
    const double rateLimitDraw = uniform(m_rng);
    const double errorDraw = uniform(m_rng);
    if (rateLimitDraw < m_behaviour.rateLimitRate) {
        admission.verdict = Verdict::RateLimit;
    } else if (errorDraw < m_behaviour.errorRate) {
        admission.verdict = Verdict::Fail;
        m_counters.failuresInjected.fetch_add(1, std::memory_order_relaxed);
    }
    return admission;
}

int SimState::requestsWithKey(const QByteArray &key) const
{
    const QMutexLocker locker {&m_mutex};
    return m_requestsByKey.value(key);
}

void SimState::noteConnection(const Http::Request &request)
{
    const QString key = request.peer.toString() + QLatin1Char(':') + QString::number(request.peerPort);
    const QMutexLocker locker {&m_mutex};
    if (!m_peers.contains(key)) {
        m_peers.insert(key);
        m_counters.connectionsAccepted.fetch_add(1, std::memory_order_relaxed);
    }
}

void SimState::recordPrompt(quint64 prefixHash, int prefixTokens, int promptTokens)
{
    m_counters.promptTokensTotal.fetch_add(promptTokens, std::memory_order_relaxed);
    m_counters.prefixQueriesTotal.fetch_add(promptTokens, std::memory_order_relaxed);
    if (prefixTokens <= 0) {
        return;
    }
    const QMutexLocker locker {&m_mutex};
    if (m_prefixes.count(prefixHash) > 0) {
        m_counters.prefixHitsTotal.fetch_add(prefixTokens, std::memory_order_relaxed);
        return;
    }
    m_prefixes.insert(prefixHash);
    m_prefixOrder.push_back(prefixHash);
    if (m_prefixOrder.size() > PREFIX_CACHE_ENTRIES) {
        m_prefixes.erase(m_prefixOrder.front());
        m_prefixOrder.pop_front();
    }
}

QByteArray SimState::lastRequestBody() const
{
    const QMutexLocker locker {&m_mutex};
    return m_lastBody;
}

Http::HeaderList SimState::lastRequestHeaders() const
{
    const QMutexLocker locker {&m_mutex};
    return m_lastHeaders;
}

QByteArray SimState::metricsText() const
{
    qint64 capacity = 0;
    int maxRunning = 0;
    QByteArray model;
    {
        const QMutexLocker locker {&m_mutex};
        capacity = std::max<qint64>(KV_BLOCK_SIZE, m_behaviour.capacityTokens);
        maxRunning = m_behaviour.maxRunningRequests;
        model = m_models.isEmpty() ? QByteArrayLiteral("sim-model") : m_models.first();
    }
    const QByteArray labels = "model_name=\"" + model + '"';
    const int inFlight = m_counters.inFlight.load(std::memory_order_relaxed);
    const int running = maxRunning > 0 ? std::min(inFlight, maxRunning) : inFlight;
    const int waiting = inFlight - running;
    const double usage = std::clamp(
        static_cast<double>(m_counters.tokensHeld.load(std::memory_order_relaxed)) / static_cast<double>(capacity),
        0.0, 1.0);

    QByteArray text;
    text += header("vllm:num_requests_running", "Number of requests in model execution batches.", "gauge");
    text += metricLine("vllm:num_requests_running", labels, QByteArray::number(running) + ".0");
    text += header("vllm:num_requests_waiting", "Number of requests waiting to be processed.", "gauge");
    text += metricLine("vllm:num_requests_waiting", labels, QByteArray::number(waiting) + ".0");
    text += header("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", "gauge");
    text += metricLine("vllm:kv_cache_usage_perc", labels, QByteArray::number(usage, 'f', 6));
    text += header("vllm:prefix_cache_queries", "Prefix cache queries, in terms of number of queried tokens.",
                   "counter");
    text += metricLine("vllm:prefix_cache_queries_total", labels,
                       counterValue(m_counters.prefixQueriesTotal.load(std::memory_order_relaxed)));
    text += header("vllm:prefix_cache_hits", "Prefix cache hits, in terms of number of cached tokens.", "counter");
    text += metricLine("vllm:prefix_cache_hits_total", labels,
                       counterValue(m_counters.prefixHitsTotal.load(std::memory_order_relaxed)));
    text += header("vllm:prompt_tokens", "Number of prefill tokens processed.", "counter");
    text += metricLine("vllm:prompt_tokens_total", labels,
                       counterValue(m_counters.promptTokensTotal.load(std::memory_order_relaxed)));
    text += header("vllm:generation_tokens", "Number of generation tokens processed.", "counter");
    text += metricLine("vllm:generation_tokens_total", labels,
                       counterValue(m_counters.generationTokensTotal.load(std::memory_order_relaxed)));
    text += header("vllm:cache_config_info", "Information of the LLMEngine CacheConfig", "gauge");
    text += metricLine("vllm:cache_config_info",
                       "block_size=\"" + QByteArray::number(KV_BLOCK_SIZE) + "\"," + labels + ",num_gpu_blocks=\"" +
                           QByteArray::number(capacity / KV_BLOCK_SIZE) + '"',
                       QByteArrayLiteral("1.0"));
    return text;
}

void SimState::registerHandler(SimHandler *handler)
{
    const QMutexLocker locker {&m_mutex};
    m_handlers.push_back(handler);
}

void SimState::unregisterHandler(SimHandler *handler)
{
    const QMutexLocker locker {&m_mutex};
    m_handlers.erase(std::remove(m_handlers.begin(), m_handlers.end(), handler), m_handlers.end());
}

void SimState::releaseHeldStreams()
{
    bumpReleaseEpoch();
    resumeHeldStreams();
}

void SimState::bumpReleaseEpoch()
{
    // Bump first: a stream that reaches its hold point after this will not stop, and
    // one already stopped is woken by the queued call of resumeHeldStreams().
    m_counters.releaseEpoch.fetch_add(1, std::memory_order_acq_rel);
}

void SimState::resumeHeldStreams()
{
    // The lock keeps each handler alive while we post to it (it unregisters under it).
    const QMutexLocker locker {&m_mutex};
    for (SimHandler *handler : m_handlers) {
        QMetaObject::invokeMethod(handler, &SimHandler::resumeHeldStreams, Qt::QueuedConnection);
    }
}

} // namespace Gateway::Sim
