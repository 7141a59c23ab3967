#include "routedocument.h"

#include <QStringList>

#include <yaml-cpp/yaml.h>

namespace Ui {

namespace {

QString scalar(const YAML::Node &node)
{
    return node && node.IsScalar() ? QString::fromStdString(node.Scalar()) : QString {};
}

// Sequences and maps as one line of flow YAML, so they fit a line edit.
QString flow(const YAML::Node &node)
{
    if (!node || node.IsNull()) {
        return {};
    }
    if (node.IsScalar()) {
        return scalar(node);
    }
    // The node's own style wins over the emitter's, so a block map is restyled on a copy.
    YAML::Node copy = YAML::Clone(node);
    copy.SetStyle(YAML::EmitterStyle::Flow);
    YAML::Emitter out;
    out << copy;
    return QString::fromUtf8(out.c_str());
}

std::optional<YAML::Node> parse(const QString &yaml)
{
    try {
        YAML::Node root = YAML::Load(yaml.toStdString());
        if (!root.IsMap() || !root["routes"] || !root["routes"].IsSequence()) {
            return std::nullopt;
        }
        return root;
    } catch (const YAML::Exception &) {
        return std::nullopt;
    }
}

// Sets map[key] to the typed text, parsed as YAML so "3" stays a number and "{a: 1}" a
// map; text that is not YAML is written as a string and the loader says why it is wrong.
void setValue(YAML::Node map, const char *key, const QString &text)
{
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty()) {
        map.remove(key);
        return;
    }
    try {
        map[key] = YAML::Load(trimmed.toStdString());
    } catch (const YAML::Exception &) {
        map[key] = trimmed.toStdString();
    }
}

// A sub-map (retry) that disappears when its last key does.
void setNested(YAML::Node route, const char *section, const char *key, const QString &text)
{
    YAML::Node map = route[section];
    if (!map || !map.IsMap()) {
        if (text.trimmed().isEmpty()) {
            return;
        }
        route[section] = YAML::Node {YAML::NodeType::Map};
        map = route[section];
        map.SetStyle(YAML::EmitterStyle::Flow);
    }
    setValue(map, key, text);
    if (map.size() == 0) {
        route.remove(section);
    }
}

} // namespace

std::optional<QList<RouteFields>> routesOf(const QString &yaml)
{
    const auto root = parse(yaml);
    if (!root) {
        return std::nullopt;
    }
    QList<RouteFields> routes;
    for (const YAML::Node &node : (*root)["routes"]) {
        RouteFields route;
        if (!node.IsMap()) {
            routes.append(route);
            continue;
        }
        route.model = scalar(node["model"]);
        route.strategy = scalar(node["strategy"]);
        route.strategyOptions = flow(node["strategy_options"]);
        if (node["targets"] && node["targets"].IsSequence()) {
            for (const YAML::Node &target : node["targets"]) {
                if (target.IsMap()) {
                    route.targets.append({scalar(target["provider"]), scalar(target["model"]), flow(target["weight"]),
                                         flow(target["max_concurrency"])});
                }
            }
        }
        const YAML::Node fallbacks = node["fallbacks"];
        if (fallbacks && fallbacks.IsSequence()) {
            QStringList names;
            for (const YAML::Node &name : fallbacks) {
                names.append(scalar(name));
            }
            route.fallbacks = names.join(QStringLiteral(", "));
        } else {
            route.fallbacks = flow(fallbacks);
        }
        const YAML::Node retry = node["retry"];
        route.retryAttempts = retry && retry.IsMap() ? flow(retry["attempts"]) : QString {};
        routes.append(route);
    }
    return routes;
}

std::optional<QString> withRoute(const QString &yaml, int index, const RouteFields &route)
{
    auto root = parse(yaml);
    if (!root || index < 0 || static_cast<std::size_t>(index) >= (*root)["routes"].size()) {
        return std::nullopt;
    }
    YAML::Node node = (*root)["routes"][static_cast<std::size_t>(index)];
    if (!node.IsMap()) {
        return std::nullopt;
    }
    setValue(node, "model", route.model);
    setValue(node, "strategy", route.strategy);
    setValue(node, "strategy_options", route.strategyOptions);

    // Targets keep their other keys (prices, pool, ...) by position.
    YAML::Node targets = node["targets"];
    YAML::Node edited {YAML::NodeType::Sequence};
    for (qsizetype i = 0; i < route.targets.size(); ++i) {
        const auto position = static_cast<std::size_t>(i);
        YAML::Node target = targets && targets.IsSequence() && position < targets.size() && targets[position].IsMap()
            ? YAML::Clone(targets[position])
            : YAML::Node {YAML::NodeType::Map};
        target.SetStyle(YAML::EmitterStyle::Flow);
        setValue(target, "provider", route.targets[i].provider);
        setValue(target, "model", route.targets[i].model);
        setValue(target, "weight", route.targets[i].weight);
        setValue(target, "max_concurrency", route.targets[i].maxConcurrency);
        edited.push_back(target);
    }
    node["targets"] = edited;

    QStringList fallbacks;
    for (const QString &name : route.fallbacks.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        if (!name.trimmed().isEmpty()) {
            fallbacks.append(name.trimmed());
        }
    }
    if (fallbacks.isEmpty()) {
        node.remove("fallbacks");
    } else {
        YAML::Node list {YAML::NodeType::Sequence};
        list.SetStyle(YAML::EmitterStyle::Flow);
        for (const QString &name : std::as_const(fallbacks)) {
            list.push_back(name.toStdString());
        }
        node["fallbacks"] = list;
    }
    setNested(node, "retry", "attempts", route.retryAttempts);

    // The header comments (e.g. "# policy version 3") say where the text came from.
    QString header;
    for (const QString &line : yaml.split(QLatin1Char('\n'))) {
        if (!line.startsWith(QLatin1Char('#'))) {
            break;
        }
        header += line + QLatin1Char('\n');
    }
    YAML::Emitter out;
    out << *root;
    return header + QString::fromUtf8(out.c_str()) + QLatin1Char('\n');
}

} // namespace Ui
