#include "governancegate.h"

#include "runtime/eventkinds.h"
#include "runtime/routetable.h"
#include "util/jsonwriter.h"

#include <QDateTime>

#include <algorithm>
#include <cmath>

namespace Gateway::Proxy {

using Governance::LimitKind;

namespace {

QByteArray limitName(LimitKind kind)
{
    const QLatin1String name = Governance::limitKindName(kind);
    return QByteArray(name.data(), name.size());
}

QByteArray valueText(const Governance::Refusal &refusal)
{
    // Dollar budgets keep their cents; everything else is a count.
    if (refusal.kind == LimitKind::UsdPerDay || refusal.kind == LimitKind::UsdPerMonth) {
        return QByteArray::number(refusal.limitValue, 'g', 12);
    }
    return QByteArray::number(static_cast<qint64>(refusal.limitValue));
}

QByteArray describe(const Governance::Refusal &refusal, qint64 retryAfterSeconds)
{
    const QByteArray who = (refusal.team ? "team '" : "virtual key '") + refusal.subject.toUtf8() + "'";
    const QByteArray value = valueText(refusal);
    QByteArray what;
    switch (refusal.kind) {
    case LimitKind::Rpm:
        what = "reached its limit of " + value + " requests per minute (rpm)";
        break;
    case LimitKind::Tpm:
        what = "reached its limit of " + value + " tokens per minute (tpm)";
        break;
    case LimitKind::Concurrency:
        what = "already has " + value + " requests in flight (max_concurrent_requests)";
        break;
    case LimitKind::UsdPerDay:
        what = "has spent its budget of $" + value + " for today, UTC (usd_per_day)";
        break;
    case LimitKind::UsdPerMonth:
        what = "has spent its budget of $" + value + " for this month, UTC (usd_per_month)";
        break;
    case LimitKind::TokensPerDay:
        what = "has used its budget of " + value + " tokens for today, UTC (tokens_per_day)";
        break;
    case LimitKind::TokensPerMonth:
        what = "has used its budget of " + value + " tokens for this month, UTC (tokens_per_month)";
        break;
    }
    return who + ' ' + what + "; retry after " + QByteArray::number(retryAfterSeconds) + " s";
}

} // namespace

GovernanceGate::Estimate GovernanceGate::estimate(const Runtime::RouteRuntime &route, const InspectedRequest &inspected)
{
    const qint64 prompt = std::max(0, inspected.estimatedPromptTokens);
    const qint64 output = inspected.maxTokens > 0 ? inspected.maxTokens
                                                  : (route.outputTokens ? route.outputTokens->value() : 0);
    Estimate estimate;
    estimate.tokens = prompt + output;
    estimate.costNanos = Governance::costNanos(route.estimatePrice, {prompt, 0, output});
    return estimate;
}

qint64 GovernanceGate::nowMs() const
{
    return m_environment.wallClockMs ? m_environment.wallClockMs() : QDateTime::currentMSecsSinceEpoch();
}

bool GovernanceGate::reserve(const Governance::Subject &subject, const QByteArray &route, const Estimate &estimate,
                             Governance::Reservation &out, ErrorInfo &error, QByteArray &retryAfter) const
{
    Governance::LimitStore *store = m_environment.limits;
    if (!store) {
        return true;
    }
    const qint64 now = nowMs();
    Governance::Refusal refusal;
    if (!store->reserve(&subject, estimate.tokens, estimate.costNanos, now, out, refusal)) {
        if (m_environment.spendMetrics) {
            m_environment.spendMetrics->addRefusal(refusal.kind, subject.key, subject.team);
        }
        // Whole seconds, never 0: a client that retries at once is refused again.
        const qint64 seconds = std::max<qint64>(1, (refusal.resetAtMs - now + 999) / 1000);
        const bool budget = Governance::isBudget(refusal.kind);
        error.status = 429;
        error.code = budget ? "budget_exceeded" : "rate_limited";
        error.message = describe(refusal, seconds);
        error.extraFields = ",\"limit\":" + Json::quoted(limitName(refusal.kind)) + ",\"limit_value\":" +
                            valueText(refusal) + ",\"limit_scope\":" + Json::quoted(refusal.team ? "team" : "key") +
                            ",\"reset_at_ms\":" + QByteArray::number(refusal.resetAtMs);
        retryAfter = QByteArray::number(seconds);
        return false;
    }
    if (m_environment.journal) {
        Governance::ReservationRecord record;
        record.id = out.id;
        record.atMs = now;
        record.key = subject.key;
        record.team = subject.team;
        record.route = route;
        record.tokens = out.tokens;
        record.costNanos = out.costNanos;
        m_environment.journal->reserved(std::move(record));
    }
    return true;
}

void GovernanceGate::settle(Governance::Reservation &reservation, const Charge &charge) const
{
    Governance::LimitStore *store = m_environment.limits;
    if (!store || !reservation.active) {
        return;
    }
    const qint64 now = nowMs();
    Governance::SettleAlerts alerts;
    store->settle(reservation, charge.usage.total(), charge.costNanos, now, alerts);
    const Governance::Subject *subject = reservation.subject;
    const QString key = subject ? subject->key : QString();
    const QString team = subject ? subject->team : QString();
    if (m_environment.journal) {
        Governance::SettlementRecord record;
        record.id = reservation.id;
        record.atMs = now;
        record.key = key;
        record.team = team;
        record.route = charge.route;
        record.backend = charge.backend;
        record.inputTokens = charge.usage.inputTokens;
        record.cachedInputTokens = charge.usage.cachedInputTokens;
        record.outputTokens = charge.usage.outputTokens;
        record.costNanos = charge.costNanos;
        record.estimated = charge.estimated;
        m_environment.journal->settled(std::move(record));
    }
    if (m_environment.spendMetrics) {
        m_environment.spendMetrics->addSpend(key, team, charge.route, charge.costNanos, charge.usage.inputTokens,
                                             charge.usage.outputTokens);
    }
    RequestLogSink *events = m_environment.requestLog;
    for (int i = 0; events && i < alerts.count; ++i) {
        const Governance::SoftLimitAlert &alert = alerts.alerts[static_cast<std::size_t>(i)];
        const QByteArray scope = alert.team ? "team" : "key";
        const QByteArray detail =
            "{\"scope\":\"" + scope + "\",\"name\":" + Json::quoted(alert.subject.toUtf8()) + ",\"budget\":" +
            Json::quoted(limitName(alert.kind)) + ",\"limit\":" + QByteArray::number(alert.limitValue, 'g', 12) +
            ",\"spent\":" + QByteArray::number(alert.spent, 'g', 12) + ",\"soft_limit_fraction\":" +
            QByteArray::number(alert.softFraction, 'g', 6) + ",\"window_start_ms\":" +
            QByteArray::number(alert.windowStartMs) + '}';
        events->recordEvent(QString(EventKinds::BUDGET_SOFT_LIMIT), QString::fromLatin1(scope) + u':' + alert.subject, detail);
    }
}

} // namespace Gateway::Proxy
