#pragma once

#include "cachesettings.h"
#include "exactcache.h"
#include "requestkey.h"
#include "semanticindex.h"
#include "semanticstore.h"

#include <QByteArray>

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>

namespace Gateway::Cache {

enum class CacheKind { Exact, Semantic };
enum class LookupResult { Hit, Miss, Bypass };

// A route's cache figures since the process started; they outlive a configuration change
// (the route's cache itself starts empty when its settings change).
struct CacheCounters {
    std::array<std::array<std::atomic<quint64>, 3>, 2> lookups {}; // [kind][result]
    std::atomic<quint64> savedTokens {0};
    std::atomic<quint64> savedNanos {0};
    std::atomic<quint64> stored {0};

    void count(CacheKind kind, LookupResult result)
    {
        lookups[static_cast<std::size_t>(kind)][static_cast<std::size_t>(result)].fetch_add(1, std::memory_order_relaxed);
    }
    quint64 lookupsOf(CacheKind kind, LookupResult result) const
    {
        return lookups[static_cast<std::size_t>(kind)][static_cast<std::size_t>(result)].load(std::memory_order_relaxed);
    }
};

// Everything one cached route keeps: its settings (fixed for this instance), its exact
// cache and semantic index (each only when configured), its counters, and where new
// semantic entries are persisted. Shared by the workers; every method is thread-safe.
class RouteCache final {
public:
    // `nowMs`: the wall clock entries are dated by (Unix epoch ms).
    RouteCache(QByteArray route, RouteCacheSettings settings, std::shared_ptr<CacheCounters> counters,
               const std::atomic<SemanticStore *> &store, std::function<qint64()> nowMs);
    RouteCache(const RouteCache &) = delete;
    RouteCache &operator=(const RouteCache &) = delete;

    const QByteArray &route() const { return m_route; }
    const RouteCacheSettings &settings() const { return m_settings; }
    CacheCounters &counters() const { return *m_counters; }
    const ExactCache *exact() const { return m_exact.get(); }
    const SemanticIndex *semantic() const { return m_semantic.get(); }
    qint64 nowMs() const { return m_nowMs(); }

    // Counted lookups (the caller counts bypasses itself).
    AnswerPtr findExact(const RequestKey &key, qint64 nowMs);
    std::optional<SemanticIndex::Match> findSemantic(const QByteArray &partition, const std::vector<float> &unitVector,
                                                     qint64 nowMs);
    // Stores a complete 2xx answer: in the exact cache, and with `unitVector` (may be
    // empty) in the semantic index and the store.
    void store(const RequestKey &key, const AnswerPtr &answer, std::vector<float> unitVector, qint64 nowMs);
    // Start-up: an entry recovered from the store.
    void restore(const SemanticRecord &record, qint64 nowMs);

    // A hit saved this much.
    void countSaving(const CachedAnswer &answer);

private:
    const QByteArray m_route;
    const RouteCacheSettings m_settings;
    std::shared_ptr<CacheCounters> m_counters;
    const std::atomic<SemanticStore *> &m_store;
    std::function<qint64()> m_nowMs;
    std::unique_ptr<ExactCache> m_exact;
    std::unique_ptr<SemanticIndex> m_semantic;
};

} // namespace Gateway::Cache
