#pragma once

#include "errorclass.h"
#include "histogram.h"

#include <QByteArray>
#include <QMutex>

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <tuple>

namespace Gateway::Metrics {

using Counter = std::atomic<std::uint64_t>;

// Counters of one route (the model name clients ask for).
struct RouteStats {
    QByteArray route;
    Counter requests {0};
    std::array<Counter, ERROR_CLASS_COUNT> errors {};
    Counter fallbacks {0}; // requests answered by a later attempt than the first
    Counter hedges {0};    // backup attempts started by hedging
    Counter hedgeWins {0}; // requests answered by the backup
    Counter sessionMovesOverloaded {0};  // session_hash: own target over its load bound
    Counter sessionMovesUnavailable {0}; // session_hash: own target filtered out (circuit open, ...)
    Counter tokensIn {0};
    Counter tokensOut {0};
    Counter residencyRefusals {0}; // 403 residency_violation: no target in the allowed regions
    Histogram latency;
    Histogram ttft;
};

// Counters of one backend: a provider/upstream-model pair.
struct BackendStats {
    QByteArray backend; // "provider/model"
    Counter attempts {0};
    Counter translatedAttempts {0}; // attempts whose request and answer changed format
    std::array<Counter, ERROR_CLASS_COUNT> errors {};
    std::atomic<int> inFlight {0};
    Counter tokensIn {0};
    Counter tokensOut {0};
    Histogram latency;
    Histogram ttft;
};

// Counters of one arm of a traffic split (an A/B test or a gradual roll-out), so the
// operator can compare arms on latency, errors, tokens and cost.
struct ArmStats {
    QByteArray route; // the route that splits
    QByteArray arm;   // the arm's name
    Counter requests {0};
    Counter errors {0};
    Counter tokensIn {0};
    Counter tokensOut {0};
    Counter costMicros {0}; // cost in millionths of the price table's currency
    Histogram latency;
    Histogram ttft;
};

// Prefill/decode disaggregation of one route with a prefill pool.
struct PdStats {
    Counter disaggregated {0}; // requests whose prefill ran on the prefill pool
    Counter aggregated {0};    // requests the decider kept on one server
};

// Owns every stats object for the life of the process, keyed by name, so counters
// survive configuration changes. Look-ups take a lock and happen when a configuration
// is compiled; the data plane only touches the atomics through stable pointers.
class MetricsRegistry final {
public:
    RouteStats &route(const QByteArray &name);
    BackendStats &backend(const QByteArray &name);
    ArmStats &arm(const QByteArray &route, const QByteArray &arm);
    // Requests a conditional routing rule matched, by route and rule name.
    Counter &ruleMatches(const QByteArray &route, const QByteArray &rule);
    // P/D decisions of a route with a prefill pool, and failed prefill steps per prefill
    // backend (the request then ran aggregated).
    PdStats &prefillDecode(const QByteArray &route);
    Counter &prefillFailures(const QByteArray &route, const QByteArray &backend);
    // Prompt firewall decisions by route, rule and action (blocked | redacted).
    Counter &firewallActions(const QByteArray &route, const QByteArray &rule, const QByteArray &action);

    // Requests refused before a route was known (bad JSON, unknown model, auth).
    std::array<Counter, ERROR_CLASS_COUNT> &unroutedErrors() { return m_unroutedErrors; }

    // Appends every series in the Prometheus text exposition format.
    void appendPrometheus(QByteArray &out) const;

    template <typename Visitor>
    void forEachRoute(Visitor &&visit) const
    {
        const QMutexLocker lock {&m_mutex};
        for (const auto &entry : m_routes) {
            visit(*entry.second);
        }
    }

    template <typename Visitor>
    void forEachBackend(Visitor &&visit) const
    {
        const QMutexLocker lock {&m_mutex};
        for (const auto &entry : m_backends) {
            visit(*entry.second);
        }
    }

private:
    void appendArms(QByteArray &out) const;
    void appendPrefillDecode(QByteArray &out) const;
    void appendFirewall(QByteArray &out) const;

    mutable QMutex m_mutex;
    std::map<QByteArray, std::unique_ptr<RouteStats>> m_routes;
    std::map<QByteArray, std::unique_ptr<BackendStats>> m_backends;
    std::map<std::pair<QByteArray, QByteArray>, std::unique_ptr<ArmStats>> m_arms;
    std::map<std::pair<QByteArray, QByteArray>, std::unique_ptr<Counter>> m_ruleMatches;
    std::map<QByteArray, std::unique_ptr<PdStats>> m_prefillDecode;
    std::map<std::pair<QByteArray, QByteArray>, std::unique_ptr<Counter>> m_prefillFailures;
    std::map<std::tuple<QByteArray, QByteArray, QByteArray>, std::unique_ptr<Counter>> m_firewallActions;
    std::array<Counter, ERROR_CLASS_COUNT> m_unroutedErrors {};
};

} // namespace Gateway::Metrics
