#include "routecache.h"

#include <algorithm>

namespace Gateway::Cache {

RouteCache::RouteCache(QByteArray route, RouteCacheSettings settings, std::shared_ptr<CacheCounters> counters,
                       const std::atomic<SemanticStore *> &store, std::function<qint64()> nowMs)
    : m_route {std::move(route)}
    , m_settings {std::move(settings)}
    , m_counters {std::move(counters)}
    , m_store {store}
    , m_nowMs {std::move(nowMs)}
{
    if (m_settings.exact.enabled) {
        m_exact = std::make_unique<ExactCache>(m_settings.exact.maxEntries, m_settings.exact.maxBytes);
    }
    if (m_settings.semantic.enabled) {
        m_semantic = std::make_unique<SemanticIndex>(m_settings.semantic.maxEntries);
    }
}

AnswerPtr RouteCache::findExact(const RequestKey &key, qint64 nowMs)
{
    if (!m_exact) {
        return nullptr;
    }
    AnswerPtr answer = m_exact->find(key.exact, nowMs);
    m_counters->count(CacheKind::Exact, answer ? LookupResult::Hit : LookupResult::Miss);
    return answer;
}

std::optional<SemanticIndex::Match> RouteCache::findSemantic(const QByteArray &partition, const std::vector<float> &unitVector,
                                                             qint64 nowMs)
{
    if (!m_semantic) {
        return std::nullopt;
    }
    auto match = m_semantic->find(partition, unitVector, m_settings.semantic.threshold, nowMs);
    m_counters->count(CacheKind::Semantic, match ? LookupResult::Hit : LookupResult::Miss);
    return match;
}

void RouteCache::store(const RequestKey &key, const AnswerPtr &answer, std::vector<float> unitVector, qint64 nowMs)
{
    m_counters->stored.fetch_add(1, std::memory_order_relaxed);
    if (m_exact) {
        m_exact->insert(key.exact, answer, nowMs + m_settings.exact.ttlMs);
    }
    if (!m_semantic || unitVector.empty()) {
        return;
    }
    const qint64 expiresAtMs = nowMs + m_settings.semantic.ttlMs;
    if (SemanticStore *store = m_store.load(std::memory_order_acquire)) {
        SemanticRecord record;
        record.route = m_route;
        record.partition = key.context;
        record.embedding = unitVector;
        record.stream = answer->stream;
        record.contentType = answer->contentType;
        record.body = answer->body;
        record.tokensIn = answer->tokensIn;
        record.tokensOut = answer->tokensOut;
        record.costNanos = answer->costNanos;
        record.storedAtMs = answer->storedAtMs;
        record.expiresAtMs = expiresAtMs;
        store->stored(std::move(record));
    }
    m_semantic->insert(key.context, std::move(unitVector), answer, expiresAtMs, nowMs);
}

void RouteCache::restore(const SemanticRecord &record, qint64 nowMs)
{
    if (!m_semantic) {
        return;
    }
    auto answer = std::make_shared<CachedAnswer>();
    answer->stream = record.stream;
    answer->contentType = record.contentType;
    answer->body = record.body;
    answer->tokensIn = record.tokensIn;
    answer->tokensOut = record.tokensOut;
    answer->costNanos = record.costNanos;
    answer->storedAtMs = record.storedAtMs;
    // A shorter TTL configured since is honoured; a longer one does not extend the entry.
    const qint64 expiresAtMs = std::min(record.expiresAtMs, record.storedAtMs + m_settings.semantic.ttlMs);
    m_semantic->insert(record.partition, SemanticIndex::normalised(record.embedding), std::move(answer), expiresAtMs, nowMs);
}

void RouteCache::countSaving(const CachedAnswer &answer)
{
    m_counters->savedTokens.fetch_add(static_cast<quint64>(std::max<qint64>(0, answer.tokensIn + answer.tokensOut)),
                                      std::memory_order_relaxed);
    m_counters->savedNanos.fetch_add(static_cast<quint64>(std::max<qint64>(0, answer.costNanos)), std::memory_order_relaxed);
}

} // namespace Gateway::Cache
