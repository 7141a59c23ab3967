#pragma once

#include "admissionregistry.h"
#include "backendmonitor.h"
#include "config/policy.h"
#include "routing/prefixindex.h"

#include <QMutex>

#include <map>
#include <memory>
#include <vector>

namespace Gateway::Routing {
class KeyPool;
class RetryBudget;
} // namespace Gateway::Routing

namespace Gateway::Runtime {

// Owns the routing engine's live state for the life of the process: a monitor per
// backend label and a key pool per provider, found by name when a policy is compiled,
// so health, EWMAs and key cool-downs survive configuration changes; and the global
// retry budget. Look-ups lock; the data plane only uses the stable pointers it hands out.
class RoutingRegistry final {
public:
    RoutingRegistry();
    ~RoutingRegistry();
    RoutingRegistry(const RoutingRegistry &) = delete;
    RoutingRegistry &operator=(const RoutingRegistry &) = delete;

    // The monitor of a backend; replaced (the old one kept alive for tables still using
    // it) when the health settings changed.
    BackendMonitor &backend(const QByteArray &label, const Config::HealthPolicy &health);
    // The key pool of a provider; replaced when its keys or their limits changed.
    Routing::KeyPool &keyPool(const Config::Provider &provider, const Config::HealthPolicy &health);

    // The retry budget for these settings; replaced (the old one kept alive for requests
    // still holding slots in it) when they changed.
    Routing::RetryBudget &retryBudget(const Config::RoutingSettings &settings);
    // The hedge budget of a route (hedges at once <= `share` of its active requests, at
    // least one); replaced when the share changed.
    Routing::RetryBudget &hedgeBudget(const QByteArray &route, double share);

    // What prefix-aware routes learned about the servers' KV caches, keyed by stableId():
    // it outlives configuration changes, like the servers' caches do.
    Routing::PrefixIndex &prefixIndex() { return m_prefixIndex; }
    // A backend label's id in the prefix index, the same for the life of the process
    // while the label stays configured.
    int stableId(const QByteArray &label);
    // Forgets the prefix state of every label not in `labels` (backends no longer configured).
    void retainBackends(const std::vector<QByteArray> &labels);
    // Whether the engine of backend `stableId` restarted since the last call for it: its
    // restart count (EngineSignals::restarts) is above the one seen then. Kept here rather
    // than per route table, so a restart that lands while a policy change swaps tables is
    // not missed; the first call for a backend only records its count, and a count below
    // the one seen (its scraper was rebuilt) is taken as the new baseline.
    bool engineRestarted(int stableId, std::int64_t restarts);

    // The admission queues of capped target groups; they outlive configuration changes
    // like the monitors do. Thread-safe on its own (not under this registry's lock).
    AdmissionRegistry &admission() { return m_admission; }

    template <typename Visitor>
    void forEachBackend(Visitor &&visit) const
    {
        const QMutexLocker lock {&m_mutex};
        for (const auto &entry : m_backends) {
            visit(*entry.second.monitor);
        }
    }

private:
    struct BackendEntry {
        Config::HealthPolicy health;
        std::unique_ptr<BackendMonitor> monitor;
    };
    struct KeyPoolEntry {
        std::vector<Config::ProviderKey> keys;
        Config::HealthPolicy health;
        std::unique_ptr<Routing::KeyPool> pool;
    };

    mutable QMutex m_mutex;
    std::map<QByteArray, BackendEntry> m_backends;
    std::map<QString, KeyPoolEntry> m_keyPools;
    std::vector<std::unique_ptr<BackendMonitor>> m_retiredMonitors;
    std::vector<std::unique_ptr<Routing::KeyPool>> m_retiredPools;
    std::unique_ptr<Routing::RetryBudget> m_retryBudget;
    double m_retryBudgetShare = -1;
    int m_retryMinConcurrency = -1;
    std::vector<std::unique_ptr<Routing::RetryBudget>> m_retiredBudgets;
    std::map<QByteArray, std::pair<double, std::unique_ptr<Routing::RetryBudget>>> m_hedgeBudgets;
    Routing::PrefixIndex m_prefixIndex;
    std::map<QByteArray, int> m_stableIds;
    int m_nextStableId = 0;
    std::map<int, std::int64_t> m_engineRestartsSeen; // by stableId

    AdmissionRegistry m_admission;
};

} // namespace Gateway::Runtime
