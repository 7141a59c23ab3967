#include "retrybudget.h"

#include <algorithm>
#include <cmath>

namespace Gateway::Routing {

namespace {

RetryBudgetSettings sanitized(RetryBudgetSettings settings)
{
    settings.budgetPercent = std::clamp(settings.budgetPercent, 0.0, 1.0);
    settings.minRetryConcurrency = std::max(settings.minRetryConcurrency, 0);
    return settings;
}

// Decrements without going below zero: an unmatched release must not mint budget.
void decrementToZero(std::atomic<int> &counter)
{
    int current = counter.load(std::memory_order_relaxed);
    while (current > 0 && !counter.compare_exchange_weak(current, current - 1, std::memory_order_relaxed)) {
    }
}

} // namespace

RetryBudget::RetryBudget(const RetryBudgetSettings &settings)
    : m_settings {sanitized(settings)}
{
}

RetryBudgetSettings RetryBudget::hedgeSettings()
{
    return RetryBudgetSettings {HEDGE_BUDGET_PERCENT, HEDGE_MIN_CONCURRENCY};
}

bool RetryBudget::tryAcquireRetry()
{
    int current = m_retries.load(std::memory_order_relaxed);
    for (;;) {
        if (current >= limitFor(m_settings, m_active.load(std::memory_order_relaxed))) {
            m_rejected.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        // Compare-exchange, so concurrent callers can never overshoot the limit together.
        if (m_retries.compare_exchange_weak(current, current + 1, std::memory_order_relaxed)) {
            return true;
        }
    }
}

void RetryBudget::releaseRetry()
{
    decrementToZero(m_retries);
}

void RetryBudget::requestStarted()
{
    m_active.fetch_add(1, std::memory_order_relaxed);
}

void RetryBudget::requestFinished()
{
    decrementToZero(m_active);
}

int RetryBudget::limit() const
{
    return limitFor(m_settings, m_active.load(std::memory_order_relaxed));
}

int RetryBudget::limitFor(const RetryBudgetSettings &settings, int active)
{
    // Rounded down (a 20 % budget over 12 requests allows 2 retries, not 3), with a tiny
    // allowance so 0.29 x 100 is 29, not 28.99999... = 28.
    constexpr double ROUNDING_SLACK = 1e-9;
    const int share = static_cast<int>(std::floor(settings.budgetPercent * std::max(active, 0) + ROUNDING_SLACK));
    return std::max(settings.minRetryConcurrency, share);
}

} // namespace Gateway::Routing
