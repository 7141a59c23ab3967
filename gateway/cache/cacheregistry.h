#pragma once

#include "routecache.h"
#include "semanticstore.h"

#include "config/policy.h"

#include <QByteArray>
#include <QHash>

#include <atomic>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <vector>

namespace Gateway::Cache {

// What the console and /admin/v1/state show for one cached route.
struct CacheFigures {
    bool enabled = false;
    quint64 hits = 0;      // exact and semantic
    quint64 lookups = 0;   // exact lookups, plus semantic ones of exact misses (bypasses excluded)
    quint64 bypasses = 0;  // cache-control: no-cache / no-store, and failed embeddings
    qint64 entries = 0;    // exact + semantic
    qint64 bytes = 0;
    quint64 savedTokens = 0;
    double savedUsd = 0;
    double hitRatio() const { return lookups == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(lookups); }
};

// The response caches of every route that has one, for the life of the process: a new
// policy keeps a route's cache when its settings did not change, starts an empty one
// when they did, and drops the caches of routes that no longer cache. Lookups from the
// workers take a shared lock for the map only.
class CacheRegistry final {
public:
    // `wallClockMs` (Unix epoch ms; the system clock when empty) dates entries: the
    // semantic index is persisted, so its times must mean something after a restart.
    explicit CacheRegistry(std::function<qint64()> wallClockMs = {});
    CacheRegistry(const CacheRegistry &) = delete;
    CacheRegistry &operator=(const CacheRegistry &) = delete;

    void configure(const Config::Policy &policy);
    // Null when the route caches nothing.
    std::shared_ptr<RouteCache> find(const QByteArray &route) const;

    // Where new semantic entries are persisted (null = nowhere); before start.
    void setStore(SemanticStore *store) { m_store.store(store, std::memory_order_release); }
    // Start-up, after configure(): entries recovered from the store (expired ones and
    // those of routes without a semantic cache are skipped). Returns how many were kept.
    int restore(const std::vector<SemanticRecord> &records);

    qint64 nowMs() const;
    CacheFigures figures(const QByteArray &route) const;
    void appendPrometheus(QByteArray &out) const;

private:
    std::vector<std::shared_ptr<RouteCache>> all() const;

    std::function<qint64()> m_wallClockMs;
    std::atomic<SemanticStore *> m_store {nullptr};
    mutable std::shared_mutex m_mutex;
    QHash<QByteArray, std::shared_ptr<RouteCache>> m_routes;            // guarded by m_mutex
    QHash<QByteArray, std::shared_ptr<CacheCounters>> m_counters;       // guarded by m_mutex
};

} // namespace Gateway::Cache
