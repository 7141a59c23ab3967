#pragma once

// What a virtual key or a team may use: request rates, concurrency and spend budgets.
// Zero always means "no limit", so an unconfigured subject costs only its accounting.

#include <QLatin1String>
#include <QtGlobal>

namespace Gateway::Governance {

// Every dimension a request can be refused on; the names are the `limit` field of a 429
// body and the `limit` label of switchyard_limit_refusals_total.
enum class LimitKind {
    Rpm,
    Tpm,
    Concurrency,
    UsdPerDay,
    UsdPerMonth,
    TokensPerDay,
    TokensPerMonth,
};
inline constexpr int LIMIT_KIND_COUNT = 7;

QLatin1String limitKindName(LimitKind kind);
// Budgets answer 429 with code budget_exceeded, rates with rate_limited.
bool isBudget(LimitKind kind);

// Nano-dollars: integer sums stay exact over months of tiny requests (a 10-token request
// to a cheap model costs about 1.5 micro-dollars) and fit atomics; int64 holds 9.2e9 USD.
inline constexpr qint64 NANOS_PER_USD = 1'000'000'000;
// Largest amount kept exactly; budgets are validated below it (config: 1e9 USD).
inline constexpr double MAX_USD = 9.0e9;
inline qint64 usdToNanos(double usd)
{
    const double clamped = usd > MAX_USD ? MAX_USD : (usd < -MAX_USD ? -MAX_USD : usd);
    return static_cast<qint64>(clamped * static_cast<double>(NANOS_PER_USD) + (clamped >= 0 ? 0.5 : -0.5));
}
inline double nanosToUsd(qint64 nanos)
{
    return static_cast<double>(nanos) / static_cast<double>(NANOS_PER_USD);
}

struct RateLimits {
    qint64 rpm = 0;           // requests per minute
    qint64 tpm = 0;           // tokens (prompt + completion) per minute
    qint64 maxConcurrent = 0; // requests in flight at once

    bool isUnlimited() const { return rpm == 0 && tpm == 0 && maxConcurrent == 0; }
    bool operator==(const RateLimits &) const = default;
};

// Budgets over UTC calendar windows. Crossing softFraction of a budget raises one alert
// event per window; reaching the budget refuses (a hard stop).
struct Budgets {
    double usdPerDay = 0;
    double usdPerMonth = 0;
    qint64 tokensPerDay = 0;
    qint64 tokensPerMonth = 0;
    double softFraction = 0.8;

    bool isUnlimited() const { return usdPerDay == 0 && usdPerMonth == 0 && tokensPerDay == 0 && tokensPerMonth == 0; }
    bool operator==(const Budgets &) const = default;
};

struct AccountLimits {
    RateLimits rates;
    Budgets budgets;

    bool isUnlimited() const { return rates.isUnlimited() && budgets.isUnlimited(); }
    bool operator==(const AccountLimits &) const = default;
};

} // namespace Gateway::Governance
