#include "ruleloader.h"

#include <QRegularExpression>
#include <QSet>

#include <cmath>

namespace Gateway::Config {

namespace {

constexpr qint64 MAX_TOKENS_LIMIT = 100000000; // the request inspector's bound on max_tokens
constexpr double SHARE_TOLERANCE = 1e-6;

QString sub(const QString &field, const char *key)
{
    return DocumentReader::join(field, QString::fromLatin1(key));
}

// A list, or a single string as a list of one: `virtual_key: team-a` reads naturally.
QStringList stringOrList(const DocumentReader &reader, const YAML::Node &node, const QString &field)
{
    QStringList values = node.IsScalar() ? QStringList {reader.string(node, field)} : reader.stringList(node, field);
    if (values.isEmpty()) {
        reader.fail(node, field, QStringLiteral("must not be empty"));
    }
    for (qsizetype i = 0; i < values.size(); ++i) {
        if (values[i].isEmpty()) {
            const YAML::Node item = node.IsScalar() ? node : node[static_cast<std::size_t>(i)];
            reader.fail(item, node.IsScalar() ? field : DocumentReader::indexed(field, static_cast<std::size_t>(i)),
                        QStringLiteral("must not be empty"));
        }
    }
    return values;
}

// A [min, max] pair of optional bounds; -1 = not given.
void parseBounds(const DocumentReader &reader, const YAML::Node &when, const QString &field, const char *minKey,
                 const char *maxKey, qint64 lowest, int &min, int &max)
{
    if (when[minKey]) {
        min = static_cast<int>(reader.integer(when[minKey], sub(field, minKey), lowest, MAX_TOKENS_LIMIT));
    }
    if (when[maxKey]) {
        max = static_cast<int>(reader.integer(when[maxKey], sub(field, maxKey), lowest, MAX_TOKENS_LIMIT));
    }
    if (min >= 0 && max >= 0 && max < min) {
        reader.fail(when[maxKey], sub(field, maxKey), QStringLiteral("must not be below %1").arg(QLatin1String(minKey)));
    }
}

RuleConditions parseConditions(const DocumentReader &reader, const YAML::Node &when, const QString &field)
{
    RuleConditions conditions;
    reader.requireMap(when, field);
    reader.checkKeys(when, field,
                     {"virtual_key", "header", "min_prompt_tokens", "max_prompt_tokens", "has_images", "has_tools",
                      "last_user_message_matches", "last_user_message_contains", "min_max_tokens", "max_max_tokens"});
    if (when["virtual_key"]) {
        conditions.virtualKeys = stringOrList(reader, when["virtual_key"], sub(field, "virtual_key"));
    }
    if (when["header"]) {
        const YAML::Node headers = when["header"];
        const QString headersField = sub(field, "header");
        reader.requireMap(headers, headersField);
        if (headers.size() == 0) {
            reader.fail(headers, headersField, QStringLiteral("must not be empty"));
        }
        static const QRegularExpression token {QStringLiteral("^[!#$%&'*+.^_`|~0-9a-z-]+$")};
        for (const auto &entry : headers) {
            const QString name = QString::fromStdString(entry.first.as<std::string>());
            const QString headerField = DocumentReader::join(headersField, name);
            // Requests carry lower-cased names, so an upper-case one could never match.
            if (!token.match(name).hasMatch()) {
                reader.fail(entry.first, headerField, QStringLiteral("'%1' is not a lower-case header name").arg(name));
            }
            conditions.headers.emplace_back(name.toLatin1(), reader.string(entry.second, headerField).toUtf8());
        }
    }
    parseBounds(reader, when, field, "min_prompt_tokens", "max_prompt_tokens", 0, conditions.minPromptTokens,
                conditions.maxPromptTokens);
    if (when["has_images"]) {
        conditions.hasImages = reader.boolean(when["has_images"], sub(field, "has_images"));
    }
    if (when["has_tools"]) {
        conditions.hasTools = reader.boolean(when["has_tools"], sub(field, "has_tools"));
    }
    if (when["last_user_message_matches"]) {
        const QString patternField = sub(field, "last_user_message_matches");
        const QString pattern = reader.string(when["last_user_message_matches"], patternField);
        if (pattern.isEmpty()) {
            reader.fail(when["last_user_message_matches"], patternField, QStringLiteral("must not be empty"));
        }
        const QRegularExpression regex {pattern};
        if (!regex.isValid()) {
            reader.fail(when["last_user_message_matches"], patternField,
                        QStringLiteral("invalid regular expression: %1 at offset %2")
                            .arg(regex.errorString())
                            .arg(regex.patternErrorOffset()));
        }
        conditions.lastUserMessageMatches = pattern;
    }
    if (when["last_user_message_contains"]) {
        conditions.lastUserMessageContains =
            stringOrList(reader, when["last_user_message_contains"], sub(field, "last_user_message_contains"));
    }
    parseBounds(reader, when, field, "min_max_tokens", "max_max_tokens", 1, conditions.minMaxTokens,
                conditions.maxMaxTokens);
    if (conditions.isEmpty()) {
        reader.fail(when, field, QStringLiteral("a rule needs at least one condition"));
    }
    return conditions;
}

// `route:` or `targets:`, exactly one. Target labels are "provider/model" of this route.
RouteAction parseAction(const DocumentReader &reader, const YAML::Node &node, const QString &field, const Route &route)
{
    RouteAction action;
    if (node["route"] && node["targets"]) {
        reader.fail(node["targets"], sub(field, "targets"), QStringLiteral("give either route or targets, not both"));
    }
    if (!node["route"] && !node["targets"]) {
        reader.fail(node, field, QStringLiteral("needs exactly one action: route (another route) or targets (of this route)"));
    }
    if (node["route"]) {
        action.route = reader.requiredString(node, "route", field).toUtf8();
        if (action.route == route.model) {
            reader.fail(node["route"], sub(field, "route"),
                        QStringLiteral("cannot send to its own route; use targets to narrow it"));
        }
        return action;
    }
    const QString targetsField = sub(field, "targets");
    const YAML::Node targets = node["targets"];
    action.targets = stringOrList(reader, targets, targetsField);
    QStringList labels;
    for (const auto &target : route.targets) {
        labels << target.provider + u'/' + QString::fromUtf8(target.model);
    }
    for (qsizetype i = 0; i < action.targets.size(); ++i) {
        const QString &label = action.targets[i];
        const YAML::Node item = targets.IsScalar() ? targets : targets[static_cast<std::size_t>(i)];
        const QString itemField =
            targets.IsScalar() ? targetsField : DocumentReader::indexed(targetsField, static_cast<std::size_t>(i));
        if (!labels.contains(label)) {
            reader.fail(item, itemField,
                        QStringLiteral("'%1' is not a target of this route (targets: %2)")
                            .arg(label, labels.join(QStringLiteral(", "))));
        }
        if (action.targets.indexOf(label) < i) {
            reader.fail(item, itemField, QStringLiteral("'%1' is listed twice").arg(label));
        }
    }
    return action;
}

RouteRule parseRule(const DocumentReader &reader, const YAML::Node &node, const QString &field, const Route &route)
{
    RouteRule rule;
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"name", "when", "route", "targets"});
    if (node["name"]) {
        rule.name = reader.requiredString(node, "name", field);
    }
    if (!node["when"]) {
        reader.fail(node, sub(field, "when"), QStringLiteral("required field is missing"));
    }
    rule.when = parseConditions(reader, node["when"], sub(field, "when"));
    rule.action = parseAction(reader, node, field, route);
    return rule;
}

SplitPolicy parseSplit(const DocumentReader &reader, const YAML::Node &node, const QString &field, const Route &route)
{
    SplitPolicy split;
    reader.requireMap(node, field);
    reader.checkKeys(node, field, {"sticky", "arms"});
    if (node["sticky"]) {
        split.sticky = reader.string(node["sticky"], sub(field, "sticky"));
        if (!splitStickyNames().contains(split.sticky)) {
            reader.fail(node["sticky"], sub(field, "sticky"),
                        QStringLiteral("unknown sticky key '%1' (allowed: %2)")
                            .arg(split.sticky, splitStickyNames().join(QStringLiteral(", "))));
        }
    }
    const QString armsField = sub(field, "arms");
    if (!node["arms"]) {
        reader.fail(node, armsField, QStringLiteral("required field is missing"));
    }
    const YAML::Node arms = node["arms"];
    reader.requireSequence(arms, armsField);
    if (arms.size() == 0) {
        reader.fail(arms, armsField, QStringLiteral("a split needs at least one arm"));
    }
    QSet<QString> names;
    double total = 0.0;
    for (std::size_t i = 0; i < arms.size(); ++i) {
        const QString armField = DocumentReader::indexed(armsField, i);
        const YAML::Node armNode = arms[i];
        reader.requireMap(armNode, armField);
        reader.checkKeys(armNode, armField, {"name", "share", "route", "targets"});
        SplitArm arm;
        arm.name = reader.requiredString(armNode, "name", armField);
        if (names.contains(arm.name)) {
            reader.fail(armNode["name"], sub(armField, "name"), QStringLiteral("duplicate arm name '%1'").arg(arm.name));
        }
        names.insert(arm.name);
        if (!armNode["share"]) {
            reader.fail(armNode, sub(armField, "share"), QStringLiteral("required field is missing"));
        }
        arm.share = reader.number(armNode["share"], sub(armField, "share"));
        if (arm.share <= 0.0 || arm.share > 1.0) {
            reader.fail(armNode["share"], sub(armField, "share"), QStringLiteral("must be greater than 0 and at most 1"));
        }
        total += arm.share;
        arm.action = parseAction(reader, armNode, armField, route);
        split.arms.push_back(std::move(arm));
    }
    if (std::abs(total - 1.0) > SHARE_TOLERANCE) {
        reader.fail(arms, armsField,
                    QStringLiteral("arm shares must sum to 1 (they sum to %1)").arg(total, 0, 'g', 10));
    }
    return split;
}

} // namespace

void parseRouteRules(const DocumentReader &reader, const YAML::Node &routeNode, const QString &field, Route &route)
{
    if (routeNode["rules"]) {
        const QString rulesField = sub(field, "rules");
        const YAML::Node rules = routeNode["rules"];
        reader.requireSequence(rules, rulesField);
        QSet<QString> names;
        for (std::size_t i = 0; i < rules.size(); ++i) {
            const QString ruleField = DocumentReader::indexed(rulesField, i);
            RouteRule rule = parseRule(reader, rules[i], ruleField, route);
            // Names label metrics and route reasons, so two rules may not share one.
            if (!rule.name.isEmpty() && names.contains(rule.name)) {
                reader.fail(rules[i]["name"], sub(ruleField, "name"), QStringLiteral("duplicate rule name '%1'").arg(rule.name));
            }
            names.insert(rule.name);
            route.rules.push_back(std::move(rule));
        }
    }
    if (routeNode["split"]) {
        route.split = parseSplit(reader, routeNode["split"], sub(field, "split"), route);
    }
}

void validateRuleReferences(const DocumentReader &reader, const YAML::Node &root, const Policy &policy)
{
    const auto check = [&](const RouteAction &action, const YAML::Node &node, const QString &field) {
        if (!action.route.isEmpty() && policy.findRoute(action.route) == nullptr) {
            reader.fail(node["route"], sub(field, "route"),
                        QStringLiteral("unknown route '%1'").arg(QString::fromUtf8(action.route)));
        }
    };
    for (std::size_t r = 0; r < policy.routes.size(); ++r) {
        const Route &route = policy.routes[r];
        const YAML::Node routeNode = root["routes"][r];
        const QString routeField = DocumentReader::indexed(QStringLiteral("routes"), r);
        for (std::size_t i = 0; i < route.rules.size(); ++i) {
            check(route.rules[i].action, routeNode["rules"][i], DocumentReader::indexed(sub(routeField, "rules"), i));
        }
        for (std::size_t i = 0; i < route.split.arms.size(); ++i) {
            check(route.split.arms[i].action, routeNode["split"]["arms"][i],
                  DocumentReader::indexed(sub(routeField, "split.arms"), i));
        }
    }
}

} // namespace Gateway::Config
