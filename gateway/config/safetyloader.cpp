#include "safetyloader.h"

#include <QRegularExpression>

namespace Gateway::Config {

namespace {

QString patternName(const DocumentReader &reader, const YAML::Node &node, const QString &field)
{
    static const QRegularExpression valid {QStringLiteral("^[a-z0-9_]{1,64}$")};
    const QString name = reader.string(node, field);
    if (!valid.match(name).hasMatch()) {
        reader.fail(node, field, QStringLiteral("'%1' is not a pattern name (1-64 of a-z, 0-9, '_')").arg(name));
    }
    return name;
}

// {name, regex}, the regex checked by RE2 itself.
NamedPattern parsePattern(const DocumentReader &reader, const YAML::Node &node, const QString &field)
{
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"name", "regex"});
    NamedPattern pattern;
    if (!node["name"]) {
        reader.fail(node, field + QStringLiteral(".name"), QStringLiteral("required field is missing"));
    }
    pattern.name = patternName(reader, node["name"], field + QStringLiteral(".name"));
    pattern.regex = reader.requiredString(node, "regex", field);
    const QString regexField = field + QStringLiteral(".regex");
    if (pattern.regex.isEmpty()) {
        reader.fail(node["regex"], regexField, QStringLiteral("must not be empty"));
    }
    const QString error = Safety::patternError(pattern.regex);
    if (!error.isEmpty()) {
        reader.fail(node["regex"], regexField, QStringLiteral("not a valid RE2 regular expression: %1").arg(error));
    }
    return pattern;
}

} // namespace

QLatin1String firewallActionName(FirewallAction action)
{
    return action == FirewallAction::Block ? QLatin1String("block") : QLatin1String("redact");
}

RedactionSettings parseRedaction(const DocumentReader &reader, const YAML::Node &node)
{
    const QString field = QStringLiteral("redaction");
    RedactionSettings settings;
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"patterns", "custom"});
    if (node["patterns"]) {
        const QString listField = field + QStringLiteral(".patterns");
        reader.requireSequence(node["patterns"], listField);
        settings.builtins.clear();
        for (std::size_t i = 0; i < node["patterns"].size(); ++i) {
            const QString itemField = DocumentReader::indexed(listField, i);
            const QString name = reader.string(node["patterns"][i], itemField);
            if (!Safety::builtinPattern(name.toUtf8())) {
                reader.fail(node["patterns"][i], itemField,
                            QStringLiteral("unknown built-in pattern '%1' (allowed: %2; add your own under redaction.custom)")
                                .arg(name, Safety::builtinPatternNames().join(QStringLiteral(", "))));
            }
            if (settings.builtins.contains(name)) {
                reader.fail(node["patterns"][i], itemField, QStringLiteral("duplicate pattern '%1'").arg(name));
            }
            settings.builtins.push_back(name);
        }
    }
    if (node["custom"]) {
        const QString listField = field + QStringLiteral(".custom");
        reader.requireSequence(node["custom"], listField);
        for (std::size_t i = 0; i < node["custom"].size(); ++i) {
            const QString itemField = DocumentReader::indexed(listField, i);
            NamedPattern pattern = parsePattern(reader, node["custom"][i], itemField);
            const bool clashes = Safety::builtinPattern(pattern.name.toUtf8()).has_value() ||
                                 std::any_of(settings.custom.begin(), settings.custom.end(),
                                             [&](const NamedPattern &other) { return other.name == pattern.name; });
            if (clashes) {
                reader.fail(node["custom"][i]["name"], itemField + QStringLiteral(".name"),
                            QStringLiteral("duplicate pattern name '%1'").arg(pattern.name));
            }
            settings.custom.push_back(std::move(pattern));
        }
    }
    if (static_cast<int>(settings.builtins.size() + static_cast<qsizetype>(settings.custom.size())) > 64) {
        reader.fail(node, field, QStringLiteral("at most 64 patterns"));
    }
    return settings;
}

void parseFirewall(const DocumentReader &reader, const YAML::Node &routeNode, const QString &routeField, Route &route)
{
    const YAML::Node node = routeNode["firewall"];
    if (!node) {
        return;
    }
    const QString field = routeField + QStringLiteral(".firewall");
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"action", "rules"});
    if (node["action"]) {
        const QString action = reader.string(node["action"], field + QStringLiteral(".action"));
        if (action == u"block") {
            route.firewall.action = FirewallAction::Block;
        } else if (action == u"redact") {
            route.firewall.action = FirewallAction::Redact;
        } else {
            reader.fail(node["action"], field + QStringLiteral(".action"),
                        QStringLiteral("unknown action '%1' (allowed: block, redact)").arg(action));
        }
    }
    const QString rulesField = field + QStringLiteral(".rules");
    if (!node["rules"]) {
        reader.fail(node, rulesField, QStringLiteral("required field is missing"));
    }
    reader.requireSequence(node["rules"], rulesField);
    if (node["rules"].size() == 0) {
        reader.fail(node["rules"], rulesField, QStringLiteral("a firewall needs at least one rule"));
    }
    if (node["rules"].size() > 64) {
        reader.fail(node["rules"], rulesField, QStringLiteral("at most 64 rules"));
    }
    for (std::size_t i = 0; i < node["rules"].size(); ++i) {
        const QString itemField = DocumentReader::indexed(rulesField, i);
        const YAML::Node item = node["rules"][i];
        NamedPattern rule;
        if (item.IsMap()) {
            rule = parsePattern(reader, item, itemField);
        } else {
            rule.name = patternName(reader, item, itemField);
        }
        for (const NamedPattern &other : route.firewall.rules) {
            if (other.name == rule.name) {
                reader.fail(item, itemField, QStringLiteral("duplicate rule '%1'").arg(rule.name));
            }
        }
        route.firewall.rules.push_back(std::move(rule));
    }
}

void validateFirewallReferences(const DocumentReader &reader, const YAML::Node &root, const Policy &policy)
{
    for (std::size_t r = 0; r < policy.routes.size(); ++r) {
        const auto &rules = policy.routes[r].firewall.rules;
        for (std::size_t i = 0; i < rules.size(); ++i) {
            const NamedPattern &rule = rules[i];
            const bool known = Safety::builtinPattern(rule.name.toUtf8()).has_value() ||
                               std::any_of(policy.redaction.custom.begin(), policy.redaction.custom.end(),
                                           [&](const NamedPattern &custom) { return custom.name == rule.name; });
            const QString field = DocumentReader::indexed(
                DocumentReader::indexed(QStringLiteral("routes"), r) + QStringLiteral(".firewall.rules"), i);
            if (rule.regex.isEmpty() && !known) {
                reader.fail(root["routes"][r]["firewall"]["rules"][i], field,
                            QStringLiteral("unknown pattern '%1' (a built-in: %2; a redaction.custom name; or {name, regex})")
                                .arg(rule.name, Safety::builtinPatternNames().join(QStringLiteral(", "))));
            }
            if (!rule.regex.isEmpty() && known) {
                reader.fail(root["routes"][r]["firewall"]["rules"][i]["name"], field + QStringLiteral(".name"),
                            QStringLiteral("'%1' is already a pattern's name; give this rule its own").arg(rule.name));
            }
        }
    }
}

std::vector<Safety::PatternSource> resolveFirewall(const Policy &policy, const FirewallPolicy &firewall)
{
    std::vector<Safety::PatternSource> resolved;
    for (const NamedPattern &rule : firewall.rules) {
        if (!rule.regex.isEmpty()) {
            resolved.push_back({rule.name.toUtf8(), rule.regex.toUtf8(), Safety::MatchCheck::None});
        } else if (const auto builtin = Safety::builtinPattern(rule.name.toUtf8())) {
            resolved.push_back(*builtin);
        } else {
            for (const NamedPattern &custom : policy.redaction.custom) {
                if (custom.name == rule.name) {
                    resolved.push_back({custom.name.toUtf8(), custom.regex.toUtf8(), Safety::MatchCheck::None});
                }
            }
        }
    }
    return resolved;
}

std::vector<Safety::PatternSource> resolveRedaction(const RedactionSettings &redaction)
{
    std::vector<Safety::PatternSource> resolved;
    for (const QString &name : redaction.builtins) {
        if (const auto builtin = Safety::builtinPattern(name.toUtf8())) {
            resolved.push_back(*builtin);
        }
    }
    for (const NamedPattern &custom : redaction.custom) {
        resolved.push_back({custom.name.toUtf8(), custom.regex.toUtf8(), Safety::MatchCheck::None});
    }
    return resolved;
}

} // namespace Gateway::Config
