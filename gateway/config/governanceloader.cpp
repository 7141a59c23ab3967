#include "governanceloader.h"

#include "mcploader.h"
#include "residencyloader.h"

#include <QSet>

namespace Gateway::Config {

namespace {

// Beyond any real allowance: a larger value is a typo.
constexpr qint64 MAX_RATE = 1'000'000'000'000LL;
// Budgets are summed in nano-dollars (int64): a billion dollars leaves ample headroom.
constexpr double MAX_USD = 1e9;
constexpr double MAX_PRICE_PER_MTOK = 1e6;

Governance::RateLimits parseLimits(const DocumentReader &reader, const YAML::Node &node, const QString &field)
{
    Governance::RateLimits limits;
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"rpm", "tpm", "max_concurrent_requests"});
    const auto read = [&](const char *key, qint64 &out) {
        if (node[key]) {
            out = reader.integer(node[key], DocumentReader::join(field, QLatin1String(key)), 0, MAX_RATE);
        }
    };
    read("rpm", limits.rpm);
    read("tpm", limits.tpm);
    read("max_concurrent_requests", limits.maxConcurrent);
    return limits;
}

Governance::Budgets parseBudgets(const DocumentReader &reader, const YAML::Node &node, const QString &field)
{
    Governance::Budgets budgets;
    reader.requireMap(node, field);
    reader.checkKeys(node, field,
                     {"usd_per_day", "usd_per_month", "tokens_per_day", "tokens_per_month", "soft_limit_fraction"});
    const auto usd = [&](const char *key, double &out) {
        if (node[key]) {
            out = reader.number(node[key], DocumentReader::join(field, QLatin1String(key)), 0.0, MAX_USD);
        }
    };
    const auto tokens = [&](const char *key, qint64 &out) {
        if (node[key]) {
            out = reader.integer(node[key], DocumentReader::join(field, QLatin1String(key)), 0, MAX_RATE);
        }
    };
    usd("usd_per_day", budgets.usdPerDay);
    usd("usd_per_month", budgets.usdPerMonth);
    tokens("tokens_per_day", budgets.tokensPerDay);
    tokens("tokens_per_month", budgets.tokensPerMonth);
    if (node["soft_limit_fraction"]) {
        const QString softField = DocumentReader::join(field, QStringLiteral("soft_limit_fraction"));
        budgets.softFraction = reader.number(node["soft_limit_fraction"], softField, 0.0, 1.0);
        if (budgets.softFraction <= 0.0) {
            reader.fail(node["soft_limit_fraction"], softField, QStringLiteral("must be greater than 0"));
        }
    }
    return budgets;
}

} // namespace

GovernanceSettings parseGovernanceSettings(const DocumentReader &reader, const YAML::Node &node)
{
    const QString field = QStringLiteral("governance");
    GovernanceSettings settings;
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"journal_flush_ms", "default_output_tokens"});
    if (node["journal_flush_ms"]) {
        settings.journalFlushMs =
            static_cast<int>(reader.integer(node["journal_flush_ms"], QStringLiteral("governance.journal_flush_ms"), 1, 60000));
    }
    if (node["default_output_tokens"]) {
        settings.defaultOutputTokens = static_cast<int>(
            reader.integer(node["default_output_tokens"], QStringLiteral("governance.default_output_tokens"), 0, 10'000'000));
    }
    return settings;
}

std::vector<ModelPrice> parsePrices(const DocumentReader &reader, const YAML::Node &node, const QString &field)
{
    std::vector<ModelPrice> prices;
    reader.requireSequence(node, field);
    QSet<QByteArray> models;
    for (std::size_t i = 0; i < node.size(); ++i) {
        const QString entryField = DocumentReader::indexed(field, i);
        const YAML::Node entry = node[i];
        reader.requireMap(entry, entryField);
        reader.checkKeys(entry, entryField, {"model", "input_per_mtok", "output_per_mtok", "cached_input_per_mtok"});
        ModelPrice price;
        price.model = reader.requiredString(entry, "model", entryField).toUtf8();
        if (models.contains(price.model.toLower())) {
            reader.fail(entry["model"], entryField + QStringLiteral(".model"),
                        QStringLiteral("duplicate price for model '%1'").arg(QString::fromUtf8(price.model)));
        }
        models.insert(price.model.toLower());
        for (const char *key : {"input_per_mtok", "output_per_mtok"}) {
            if (!entry[key]) {
                reader.fail(entry, DocumentReader::join(entryField, QLatin1String(key)), QStringLiteral("required field is missing"));
            }
        }
        price.inputPerMTok = reader.number(entry["input_per_mtok"], entryField + QStringLiteral(".input_per_mtok"), 0.0,
                                           MAX_PRICE_PER_MTOK);
        price.outputPerMTok = reader.number(entry["output_per_mtok"], entryField + QStringLiteral(".output_per_mtok"),
                                            0.0, MAX_PRICE_PER_MTOK);
        if (entry["cached_input_per_mtok"]) {
            price.cachedInputPerMTok = reader.number(entry["cached_input_per_mtok"],
                                                     entryField + QStringLiteral(".cached_input_per_mtok"), 0.0,
                                                     MAX_PRICE_PER_MTOK);
        }
        prices.push_back(std::move(price));
    }
    return prices;
}

Team parseTeam(const DocumentReader &reader, const YAML::Node &node, const QString &field)
{
    Team team;
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"name", "routes", "limits", "budgets", "priority", "regions", "mcp_servers", "mcp_tools"});
    team.name = reader.requiredString(node, "name", field);
    if (team.name.isEmpty()) {
        reader.fail(node["name"], field + QStringLiteral(".name"), QStringLiteral("must not be empty"));
    }
    if (node["routes"]) {
        team.routes = reader.stringList(node["routes"], field + QStringLiteral(".routes"));
    }
    if (node["limits"]) {
        team.limits = parseLimits(reader, node["limits"], field + QStringLiteral(".limits"));
    }
    if (node["budgets"]) {
        team.budgets = parseBudgets(reader, node["budgets"], field + QStringLiteral(".budgets"));
    }
    if (node["priority"]) {
        const QString priorityField = field + QStringLiteral(".priority");
        const QByteArray value = reader.string(node["priority"], priorityField).toUtf8();
        const auto priority = Admission::parsePriorityClass(value);
        if (!priority) {
            reader.fail(node["priority"], priorityField,
                        QStringLiteral("unknown priority '%1' (allowed: interactive, standard, batch)")
                            .arg(QString::fromUtf8(value)));
        }
        team.priority = priority.value();
    }
    parseRegionList(reader, node, field, team.regions);
    parseMcpAccess(reader, node, field, team.mcp);
    return team;
}

void parseKeyGovernance(const DocumentReader &reader, const YAML::Node &keyNode, const QString &field, VirtualKey &key)
{
    if (keyNode["team"]) {
        key.team = reader.string(keyNode["team"], field + QStringLiteral(".team"));
    }
    if (keyNode["limits"]) {
        key.limits = parseLimits(reader, keyNode["limits"], field + QStringLiteral(".limits"));
    }
    if (keyNode["budgets"]) {
        key.budgets = parseBudgets(reader, keyNode["budgets"], field + QStringLiteral(".budgets"));
    }
}

void validateGovernanceReferences(const DocumentReader &reader, const YAML::Node &root, const Policy &policy)
{
    QSet<QString> teamNames;
    for (std::size_t t = 0; t < policy.teams.size(); ++t) {
        const Team &team = policy.teams[t];
        const QString teamField = DocumentReader::indexed(QStringLiteral("teams"), t);
        const YAML::Node teamNode = root["teams"][t];
        if (teamNames.contains(team.name)) {
            reader.fail(teamNode["name"], teamField + QStringLiteral(".name"),
                        QStringLiteral("duplicate team name '%1'").arg(team.name));
        }
        teamNames.insert(team.name);
        for (qsizetype r = 0; r < team.routes.size(); ++r) {
            if (!policy.findRoute(team.routes[r].toUtf8())) {
                reader.fail(teamNode["routes"][r],
                            DocumentReader::indexed(teamField + QStringLiteral(".routes"), static_cast<std::size_t>(r)),
                            QStringLiteral("unknown route '%1'").arg(team.routes[r]));
            }
        }
    }
    for (std::size_t k = 0; k < policy.virtualKeys.size(); ++k) {
        const VirtualKey &key = policy.virtualKeys[k];
        if (!key.team.isEmpty() && !teamNames.contains(key.team)) {
            reader.fail(root["virtual_keys"][k]["team"],
                        DocumentReader::indexed(QStringLiteral("virtual_keys"), k) + QStringLiteral(".team"),
                        QStringLiteral("unknown team '%1'").arg(key.team));
        }
    }
}

} // namespace Gateway::Config
