#include "governancemetricsexport.h"

#include "routetable.h"

#include "governance/locallimitstore.h"
#include "governance/spendmetrics.h"

#include <QHash>

#include <algorithm>

namespace Gateway::Runtime {

namespace {

using Governance::AccountUsage;
using Governance::Budgets;

struct Budgeted {
    QByteArray scope;
    QString name;
    Budgets budgets;
};

void appendRemaining(QByteArray &out, const char *metric, const Budgeted &who, const char *window, double remaining)
{
    out += QByteArray(metric) + "{scope=\"" + who.scope + "\",name=\"" + Governance::escapeLabel(who.name.toUtf8()) +
           "\",window=\"" + window + "\"} " + QByteArray::number(remaining, 'g', 12) + '\n';
}

} // namespace

void appendGovernanceMetrics(QByteArray &out, const RouteTable &table, const Governance::LocalLimitStore &limits,
                             const Governance::SpendMetrics &spend, qint64 nowMs)
{
    spend.appendPrometheus(out);
    std::vector<Budgeted> budgeted;
    for (const auto &team : table.policy().teams) {
        if (!team.budgets.isUnlimited()) {
            budgeted.push_back({"team", team.name, team.budgets});
        }
    }
    for (const auto &key : table.policy().virtualKeys) {
        if (!key.budgets.isUnlimited()) {
            budgeted.push_back({"key", key.name, key.budgets});
        }
    }
    if (budgeted.empty()) {
        return;
    }
    QHash<QString, AccountUsage> keys;
    QHash<QString, AccountUsage> teams;
    for (const auto &snapshot : limits.snapshots(nowMs)) {
        (snapshot.team ? teams : keys).insert(snapshot.name, snapshot.usage);
    }
    out += "# HELP switchyard_budget_remaining_usd Dollars left in a key's or team's budget for the current UTC window.\n"
           "# TYPE switchyard_budget_remaining_usd gauge\n";
    for (const Budgeted &who : budgeted) {
        const AccountUsage usage = (who.scope == "team" ? teams : keys).value(who.name);
        const qint64 reserved = usage.reservedNanos;
        if (who.budgets.usdPerDay > 0) {
            appendRemaining(out, "switchyard_budget_remaining_usd", who, "day",
                            who.budgets.usdPerDay - Governance::nanosToUsd(usage.dayNanos + reserved));
        }
        if (who.budgets.usdPerMonth > 0) {
            appendRemaining(out, "switchyard_budget_remaining_usd", who, "month",
                            who.budgets.usdPerMonth - Governance::nanosToUsd(usage.monthNanos + reserved));
        }
    }
    out += "# HELP switchyard_budget_remaining_tokens Tokens left in a key's or team's budget for the current UTC window.\n"
           "# TYPE switchyard_budget_remaining_tokens gauge\n";
    for (const Budgeted &who : budgeted) {
        const AccountUsage usage = (who.scope == "team" ? teams : keys).value(who.name);
        if (who.budgets.tokensPerDay > 0) {
            appendRemaining(out, "switchyard_budget_remaining_tokens", who, "day",
                            static_cast<double>(who.budgets.tokensPerDay - usage.dayTokens - usage.reservedTokens));
        }
        if (who.budgets.tokensPerMonth > 0) {
            appendRemaining(out, "switchyard_budget_remaining_tokens", who, "month",
                            static_cast<double>(who.budgets.tokensPerMonth - usage.monthTokens - usage.reservedTokens));
        }
    }
}

} // namespace Gateway::Runtime
