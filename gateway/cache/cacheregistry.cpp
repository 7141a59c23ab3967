#include "cacheregistry.h"

#include "metrics/exposition.h"

#include <QDateTime>

#include <algorithm>
#include <mutex>

namespace Gateway::Cache {

namespace {

constexpr const char *KIND_NAMES[] = {"exact", "semantic"};
constexpr const char *RESULT_NAMES[] = {"hit", "miss", "bypass"};

} // namespace

CacheRegistry::CacheRegistry(std::function<qint64()> wallClockMs)
    : m_wallClockMs {std::move(wallClockMs)}
{
}

qint64 CacheRegistry::nowMs() const
{
    return m_wallClockMs ? m_wallClockMs() : QDateTime::currentMSecsSinceEpoch();
}

void CacheRegistry::configure(const Config::Policy &policy)
{
    QHash<QByteArray, std::shared_ptr<RouteCache>> routes;
    const std::unique_lock lock {m_mutex};
    for (const Config::Route &route : policy.routes) {
        if (!route.cache.isEnabled()) {
            continue;
        }
        const auto existing = m_routes.constFind(route.model);
        if (existing != m_routes.constEnd() && (*existing)->settings() == route.cache) {
            routes.insert(route.model, *existing);
            continue;
        }
        std::shared_ptr<CacheCounters> &counters = m_counters[route.model];
        if (!counters) {
            counters = std::make_shared<CacheCounters>();
        }
        routes.insert(route.model, std::make_shared<RouteCache>(route.model, route.cache, counters, m_store,
                                                                  [this] { return nowMs(); }));
    }
    m_routes = std::move(routes);
}

std::shared_ptr<RouteCache> CacheRegistry::find(const QByteArray &route) const
{
    const std::shared_lock lock {m_mutex};
    return m_routes.value(route);
}

std::vector<std::shared_ptr<RouteCache>> CacheRegistry::all() const
{
    const std::shared_lock lock {m_mutex};
    std::vector<std::shared_ptr<RouteCache>> out;
    out.reserve(static_cast<std::size_t>(m_routes.size()));
    for (const auto &cache : m_routes) {
        out.push_back(cache);
    }
    std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a->route() < b->route(); });
    return out;
}

int CacheRegistry::restore(const std::vector<SemanticRecord> &records)
{
    const qint64 now = nowMs();
    int kept = 0;
    for (const SemanticRecord &record : records) {
        const auto cache = find(record.route);
        if (!cache || !cache->semantic() || record.expiresAtMs <= now) {
            continue;
        }
        cache->restore(record, now);
        ++kept;
    }
    return kept;
}

CacheFigures CacheRegistry::figures(const QByteArray &route) const
{
    CacheFigures figures;
    const auto cache = find(route);
    if (!cache) {
        return figures;
    }
    const CacheCounters &counters = cache->counters();
    figures.enabled = true;
    const quint64 exactHits = counters.lookupsOf(CacheKind::Exact, LookupResult::Hit);
    const quint64 semanticHits = counters.lookupsOf(CacheKind::Semantic, LookupResult::Hit);
    figures.hits = exactHits + semanticHits;
    // A request is one lookup: its exact lookup, or its semantic one when the route has
    // no exact cache (a semantic lookup after an exact miss is the same request).
    const CacheKind first = cache->exact() ? CacheKind::Exact : CacheKind::Semantic;
    figures.lookups = counters.lookupsOf(first, LookupResult::Hit) + counters.lookupsOf(first, LookupResult::Miss);
    figures.bypasses = counters.lookupsOf(CacheKind::Exact, LookupResult::Bypass) +
                       counters.lookupsOf(CacheKind::Semantic, LookupResult::Bypass);
    figures.entries = (cache->exact() ? cache->exact()->entries() : 0) + (cache->semantic() ? cache->semantic()->entries() : 0);
    figures.bytes = (cache->exact() ? cache->exact()->bytes() : 0) + (cache->semantic() ? cache->semantic()->bytes() : 0);
    figures.savedTokens = counters.savedTokens.load(std::memory_order_relaxed);
    figures.savedUsd = static_cast<double>(counters.savedNanos.load(std::memory_order_relaxed)) / 1e9;
    return figures;
}

void CacheRegistry::appendPrometheus(QByteArray &out) const
{
    const auto caches = all();
    if (caches.empty()) {
        return;
    }
    Metrics::appendMetricHeader(out, "switchyard_cache_lookups_total", "counter",
           "Response-cache lookups by route, kind (exact, semantic) and result (hit, miss, bypass).");
    for (const auto &cache : caches) {
        for (std::size_t kind = 0; kind < 2; ++kind) {
            const bool configured = kind == 0 ? cache->exact() != nullptr : cache->semantic() != nullptr;
            if (!configured) {
                continue;
            }
            for (std::size_t result = 0; result < 3; ++result) {
                out += "switchyard_cache_lookups_total{route=\"" + Metrics::escapeLabelValue(cache->route()) + "\",kind=\"" + KIND_NAMES[kind] +
                       "\",result=\"" + RESULT_NAMES[result] + "\"} " +
                       QByteArray::number(cache->counters().lookupsOf(static_cast<CacheKind>(kind), static_cast<LookupResult>(result))) +
                       '\n';
            }
        }
    }
    Metrics::appendMetricHeader(out, "switchyard_cache_entries", "gauge", "Entries held by a route's response cache, by kind.");
    for (const auto &cache : caches) {
        if (cache->exact()) {
            out += "switchyard_cache_entries{route=\"" + Metrics::escapeLabelValue(cache->route()) + "\",kind=\"exact\"} " +
                   QByteArray::number(cache->exact()->entries()) + '\n';
        }
        if (cache->semantic()) {
            out += "switchyard_cache_entries{route=\"" + Metrics::escapeLabelValue(cache->route()) + "\",kind=\"semantic\"} " +
                   QByteArray::number(cache->semantic()->entries()) + '\n';
        }
    }
    Metrics::appendMetricHeader(out, "switchyard_cache_bytes", "gauge", "Bytes held by a route's response caches (answers, keys, embeddings).");
    for (const auto &cache : caches) {
        const qint64 bytes = (cache->exact() ? cache->exact()->bytes() : 0) + (cache->semantic() ? cache->semantic()->bytes() : 0);
        out += "switchyard_cache_bytes{route=\"" + Metrics::escapeLabelValue(cache->route()) + "\"} " + QByteArray::number(bytes) + '\n';
    }
    Metrics::appendMetricHeader(out, "switchyard_cache_saved_tokens_total", "counter",
           "Tokens (prompt + completion) of the original answers served from the cache instead of upstream.");
    for (const auto &cache : caches) {
        out += "switchyard_cache_saved_tokens_total{route=\"" + Metrics::escapeLabelValue(cache->route()) + "\"} " +
               QByteArray::number(cache->counters().savedTokens.load(std::memory_order_relaxed)) + '\n';
    }
    Metrics::appendMetricHeader(out, "switchyard_cache_saved_usd_total", "counter",
           "US dollars the original answers cost that cache hits did not spend again.");
    for (const auto &cache : caches) {
        out += "switchyard_cache_saved_usd_total{route=\"" + Metrics::escapeLabelValue(cache->route()) + "\"} " +
               QByteArray::number(static_cast<double>(cache->counters().savedNanos.load(std::memory_order_relaxed)) / 1e9, 'g', 12) +
               '\n';
    }
}

} // namespace Gateway::Cache
