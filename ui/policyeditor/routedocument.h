#pragma once

#include <QList>
#include <QString>

#include <optional>

namespace Ui {

// The routes of a policy document as the structured form edits them: every value is the
// text the operator typed, unchecked. The form never validates; it writes these values
// into the YAML and the store's dry run (the policy loader) judges them, naming the field.
struct RouteFields {
    struct Target {
        QString provider;
        QString model;
        QString weight;         // empty = the default
        QString maxConcurrency; // targets[].max_concurrency, the route's concurrency limit
        bool operator==(const Target &) const = default;
    };

    QString model; // the route's name, routes[].model
    QString strategy;
    QString strategyOptions; // flow YAML, e.g. "{interval_ms: 2000}"
    QList<Target> targets;
    QString fallbacks;      // comma-separated route names
    QString retryAttempts;  // retry.attempts

    bool operator==(const RouteFields &) const = default;
};

// The routes of `yaml`; nullopt when it is not YAML with a routes list (the form then
// waits for the text to parse again).
std::optional<QList<RouteFields>> routesOf(const QString &yaml);

// `yaml` with route `index` replaced by `route`: only the keys the form shows change
// (other keys of the route and the rest of the document stay), an empty value removes
// its key (the default applies). The leading comment block is kept; other comments and
// the layout are re-emitted by yaml-cpp. nullopt when `yaml` does not parse or has no
// such route.
std::optional<QString> withRoute(const QString &yaml, int index, const RouteFields &route);

} // namespace Ui
