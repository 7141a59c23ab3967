#include "routingregistry.h"

#include <algorithm>

#include "routing/keypool.h"
#include "routing/retrybudget.h"

namespace Gateway::Runtime {

RoutingRegistry::RoutingRegistry() = default;
RoutingRegistry::~RoutingRegistry() = default;

BackendMonitor &RoutingRegistry::backend(const QByteArray &label, const Config::HealthPolicy &health)
{
    const QMutexLocker lock {&m_mutex};
    auto &entry = m_backends[label];
    if (entry.monitor && !(entry.health == health)) {
        m_retiredMonitors.push_back(std::move(entry.monitor));
    }
    if (!entry.monitor) {
        entry.health = health;
        entry.monitor = std::make_unique<BackendMonitor>(label, healthSettingsOf(health));
    }
    return *entry.monitor;
}

Routing::KeyPool &RoutingRegistry::keyPool(const Config::Provider &provider, const Config::HealthPolicy &health)
{
    // Secrets are not part of the identity: rotating a key's secret keeps its counters
    // (the limits belong to the account, and the name says which one it is).
    std::vector<Config::ProviderKey> keys = provider.keys;
    for (auto &key : keys) {
        key.secret.clear();
    }
    const QMutexLocker lock {&m_mutex};
    auto &entry = m_keyPools[provider.name];
    if (entry.pool && (entry.keys != keys || !(entry.health == health))) {
        m_retiredPools.push_back(std::move(entry.pool));
    }
    if (!entry.pool) {
        std::vector<Routing::ProviderKey> specs;
        for (const auto &key : provider.keys) {
            if (!key.secret.isEmpty()) {
                specs.push_back({key.name, key.rpm, key.tpm});
            }
        }
        Routing::KeyPoolSettings settings;
        settings.health = healthSettingsOf(health);
        entry.keys = std::move(keys);
        entry.health = health;
        entry.pool = std::make_unique<Routing::KeyPool>(std::move(specs), settings);
    }
    return *entry.pool;
}

Routing::RetryBudget &RoutingRegistry::retryBudget(const Config::RoutingSettings &settings)
{
    const QMutexLocker lock {&m_mutex};
    if (m_retryBudget && (m_retryBudgetShare != settings.retryBudget || m_retryMinConcurrency != settings.retryMinConcurrency)) {
        m_retiredBudgets.push_back(std::move(m_retryBudget));
    }
    if (!m_retryBudget) {
        Routing::RetryBudgetSettings budget;
        budget.budgetPercent = settings.retryBudget;
        budget.minRetryConcurrency = settings.retryMinConcurrency;
        m_retryBudget = std::make_unique<Routing::RetryBudget>(budget);
        m_retryBudgetShare = settings.retryBudget;
        m_retryMinConcurrency = settings.retryMinConcurrency;
    }
    return *m_retryBudget;
}

Routing::RetryBudget &RoutingRegistry::hedgeBudget(const QByteArray &route, double share)
{
    const QMutexLocker lock {&m_mutex};
    auto &entry = m_hedgeBudgets[route];
    if (entry.second && entry.first != share) {
        m_retiredBudgets.push_back(std::move(entry.second));
    }
    if (!entry.second) {
        Routing::RetryBudgetSettings settings = Routing::RetryBudget::hedgeSettings();
        settings.budgetPercent = share;
        entry = {share, std::make_unique<Routing::RetryBudget>(settings)};
    }
    return *entry.second;
}

int RoutingRegistry::stableId(const QByteArray &label)
{
    const QMutexLocker lock {&m_mutex};
    const auto [it, inserted] = m_stableIds.try_emplace(label, m_nextStableId);
    if (inserted) {
        ++m_nextStableId;
    }
    return it->second;
}

bool RoutingRegistry::engineRestarted(int stableId, std::int64_t restarts)
{
    const QMutexLocker lock {&m_mutex};
    const auto [it, first] = m_engineRestartsSeen.try_emplace(stableId, restarts);
    const bool restarted = !first && restarts > it->second;
    it->second = restarts;
    return restarted;
}

void RoutingRegistry::retainBackends(const std::vector<QByteArray> &labels)
{
    const QMutexLocker lock {&m_mutex};
    for (auto it = m_stableIds.begin(); it != m_stableIds.end();) {
        if (std::find(labels.begin(), labels.end(), it->first) == labels.end()) {
            m_prefixIndex.forget(it->second);
            m_engineRestartsSeen.erase(it->second);
            it = m_stableIds.erase(it);
        } else {
            ++it;
        }
    }
}

} // namespace Gateway::Runtime
