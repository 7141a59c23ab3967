#pragma once

#include <atomic>
#include <cstdint>

namespace Gateway::Routing {

struct RetryBudgetSettings {
    // Share of the active requests that may be retries at once (0.2 = 20 %; config key
    // budget_percent keeps Envoy's name, but as a fraction).
    double budgetPercent = 0.2;
    // Retries always allowed regardless of load, so a quiet gateway can still retry.
    int minRetryConcurrency = 3;
};

// Caps concurrent retries to a share of the live traffic (Envoy's retry budgets, Finagle's
// RetryBudget): when an upstream fails wholesale, retries cannot multiply the load on it.
// A retry may start while retries in flight < max(min_retry_concurrency,
// floor(budget_percent x active requests)). Active requests are original requests only
// (requestStarted/requestFinished); retries are counted separately (tryAcquireRetry /
// releaseRetry).
//
// The same class is the hedge budget: hedgeSettings() (5 %, at least one) caps hedged
// second attempts the same way; use a separate instance.
//
// Thread safety: lock-free, std::atomic counters only; every method may be called from
// any thread. Under contention the limit is judged against the active count of the
// moment, so it can be off by the requests that start or finish concurrently.
class RetryBudget {
public:
    static constexpr double HEDGE_BUDGET_PERCENT = 0.05;
    static constexpr int HEDGE_MIN_CONCURRENCY = 1;

    explicit RetryBudget(const RetryBudgetSettings &settings = {});
    static RetryBudgetSettings hedgeSettings();

    // Takes a retry slot; false (and counted as rejected) when the budget is spent.
    bool tryAcquireRetry();
    void releaseRetry();
    void requestStarted();
    void requestFinished();

    int limit() const; // current cap on concurrent retries
    int activeRequests() const { return m_active.load(std::memory_order_relaxed); }
    int retriesInFlight() const { return m_retries.load(std::memory_order_relaxed); }
    std::uint64_t rejectedRetries() const { return m_rejected.load(std::memory_order_relaxed); }
    const RetryBudgetSettings &settings() const { return m_settings; }

private:
    static int limitFor(const RetryBudgetSettings &settings, int active);

    const RetryBudgetSettings m_settings;
    std::atomic<int> m_active {0};
    std::atomic<int> m_retries {0};
    std::atomic<std::uint64_t> m_rejected {0};
};

} // namespace Gateway::Routing
