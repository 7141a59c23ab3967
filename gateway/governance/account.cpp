#include "account.h"

#include "utcwindow.h"

#include <algorithm>

namespace Gateway::Governance {

void Account::roll(qint64 nowMs)
{
    // Reservations are not window-bound: one made before midnight and settled after it
    // releases its estimate from the running total and commits to the new day.
    const qint64 day = utcDay(nowMs);
    if (m_day.id != day) {
        m_day = Window {};
        m_day.id = day;
    }
    const qint64 month = utcMonth(nowMs);
    if (m_month.id != month) {
        m_month = Window {};
        m_month.id = month;
    }
}

void Account::syncBuckets(const RateLimits &rates, qint64 nowMs)
{
    if (m_requests.limit() != rates.rpm) {
        m_requests.reset(rates.rpm, nowMs);
    }
    if (m_tokens.limit() != rates.tpm) {
        m_tokens.reset(rates.tpm, nowMs);
    }
}

std::optional<Refusal> Account::check(const AccountLimits &limits, qint64 tokens, qint64 costNanos, qint64 nowMs)
{
    roll(nowMs);
    syncBuckets(limits.rates, nowMs);
    const auto refuse = [&](LimitKind kind, double value, qint64 resetAtMs) {
        return Refusal {kind, m_team, m_name, value, resetAtMs};
    };
    const RateLimits &rates = limits.rates;
    if (rates.maxConcurrent > 0 && m_inFlight >= rates.maxConcurrent) {
        // Frees when a request finishes; nothing better to promise than a second.
        return refuse(LimitKind::Concurrency, static_cast<double>(rates.maxConcurrent), nowMs + 1000);
    }
    if (!m_requests.canTake(1, nowMs)) {
        return refuse(LimitKind::Rpm, static_cast<double>(rates.rpm), nowMs + m_requests.waitMs(1, nowMs));
    }
    if (!m_tokens.canTake(tokens, nowMs)) {
        return refuse(LimitKind::Tpm, static_cast<double>(rates.tpm), nowMs + m_tokens.waitMs(tokens, nowMs));
    }
    const Budgets &budgets = limits.budgets;
    // A hard stop counts what is committed, what is reserved by requests in flight and
    // this request's own estimate: concurrent requests cannot jointly overshoot.
    if (budgets.usdPerDay > 0 && m_day.nanos + m_reservedNanos + costNanos > usdToNanos(budgets.usdPerDay)) {
        return refuse(LimitKind::UsdPerDay, budgets.usdPerDay, nextUtcDayStartMs(nowMs));
    }
    if (budgets.usdPerMonth > 0 && m_month.nanos + m_reservedNanos + costNanos > usdToNanos(budgets.usdPerMonth)) {
        return refuse(LimitKind::UsdPerMonth, budgets.usdPerMonth, nextUtcMonthStartMs(nowMs));
    }
    if (budgets.tokensPerDay > 0 && m_day.tokens + m_reservedTokens + tokens > budgets.tokensPerDay) {
        return refuse(LimitKind::TokensPerDay, static_cast<double>(budgets.tokensPerDay), nextUtcDayStartMs(nowMs));
    }
    if (budgets.tokensPerMonth > 0 && m_month.tokens + m_reservedTokens + tokens > budgets.tokensPerMonth) {
        return refuse(LimitKind::TokensPerMonth, static_cast<double>(budgets.tokensPerMonth), nextUtcMonthStartMs(nowMs));
    }
    return std::nullopt;
}

void Account::commit(qint64 tokens, qint64 costNanos)
{
    m_requests.take(1);
    m_tokens.take(tokens);
    ++m_inFlight;
    m_reservedNanos += costNanos;
    m_reservedTokens += tokens;
}

void Account::settle(const AccountLimits &limits, qint64 estimatedTokens, qint64 estimatedNanos, qint64 actualTokens,
                     qint64 actualNanos, qint64 nowMs, SettleAlerts &alerts)
{
    roll(nowMs);
    syncBuckets(limits.rates, nowMs);
    m_inFlight = std::max<qint64>(0, m_inFlight - 1);
    m_reservedNanos = std::max<qint64>(0, m_reservedNanos - estimatedNanos);
    m_reservedTokens = std::max<qint64>(0, m_reservedTokens - estimatedTokens);
    m_tokens.adjust(actualTokens - estimatedTokens);
    m_day.nanos += actualNanos;
    m_day.tokens += actualTokens;
    m_month.nanos += actualNanos;
    m_month.tokens += actualTokens;
    alertIfCrossed(limits.budgets, m_day, true, nowMs, alerts);
    alertIfCrossed(limits.budgets, m_month, false, nowMs, alerts);
}

void Account::alertIfCrossed(const Budgets &budgets, Window &window, bool day, qint64 nowMs, SettleAlerts &alerts)
{
    const double usdLimit = day ? budgets.usdPerDay : budgets.usdPerMonth;
    const qint64 tokenLimit = day ? budgets.tokensPerDay : budgets.tokensPerMonth;
    const qint64 windowStart = day ? utcDayStartMs(nowMs) : utcMonthStartMs(nowMs);
    if (usdLimit > 0 && !window.usdAlerted) {
        const double threshold = budgets.softFraction * static_cast<double>(usdToNanos(usdLimit));
        if (static_cast<double>(window.nanos) >= threshold) {
            window.usdAlerted = true;
            if (static_cast<double>(window.seededNanos) < threshold) {
                alerts.add({day ? LimitKind::UsdPerDay : LimitKind::UsdPerMonth, m_team, m_name, usdLimit,
                            nanosToUsd(window.nanos), budgets.softFraction, windowStart});
            }
        }
    }
    if (tokenLimit > 0 && !window.tokensAlerted) {
        const double threshold = budgets.softFraction * static_cast<double>(tokenLimit);
        if (static_cast<double>(window.tokens) >= threshold) {
            window.tokensAlerted = true;
            if (static_cast<double>(window.seededTokens) < threshold) {
                alerts.add({day ? LimitKind::TokensPerDay : LimitKind::TokensPerMonth, m_team, m_name,
                            static_cast<double>(tokenLimit), static_cast<double>(window.tokens), budgets.softFraction,
                            windowStart});
            }
        }
    }
}

void Account::seed(const AccountUsage &spent, qint64 nowMs)
{
    roll(nowMs);
    m_day.nanos += spent.dayNanos;
    m_day.tokens += spent.dayTokens;
    m_day.seededNanos = m_day.nanos;
    m_day.seededTokens = m_day.tokens;
    m_month.nanos += spent.monthNanos;
    m_month.tokens += spent.monthTokens;
    m_month.seededNanos = m_month.nanos;
    m_month.seededTokens = m_month.tokens;
}

void Account::addCommitted(qint64 tokens, qint64 nanos, qint64 nowMs)
{
    roll(nowMs);
    m_day.nanos += nanos;
    m_day.tokens += tokens;
    m_month.nanos += nanos;
    m_month.tokens += tokens;
}

AccountUsage Account::usage(qint64 nowMs)
{
    roll(nowMs);
    return {m_day.nanos, m_day.tokens, m_month.nanos, m_month.tokens, m_reservedNanos, m_reservedTokens, m_inFlight};
}

} // namespace Gateway::Governance
