#pragma once

#include "configerror.h"
#include "policyloader.h"

#include <QString>
#include <QStringList>

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <utility>
#include <vector>

namespace Gateway::Config {

// Parsing reports the first problem found. Internally it unwinds with this type; it
// never escapes parsePolicy(), and parsing never runs on the data plane.
struct ParseFailure {
    ConfigError error;
};

// Typed, validated reads from a YAML policy document. Every failure names the source,
// line and field; ${VAR} references in scalars expand from the environment.
class DocumentReader final {
public:
    DocumentReader(QString source, const EnvLookup &env);

    [[noreturn]] void fail(const YAML::Node &node, const QString &field, const QString &message) const;

    void requireMap(const YAML::Node &node, const QString &field) const;
    void requireSequence(const YAML::Node &node, const QString &field) const;
    // Rejects keys the schema does not know, so a typo never silently does nothing.
    void checkKeys(const YAML::Node &map, const QString &field, std::initializer_list<const char *> allowed) const;

    QString string(const YAML::Node &node, const QString &field) const;
    QString requiredString(const YAML::Node &map, const char *key, const QString &parent) const;
    qint64 integer(const YAML::Node &node, const QString &field, qint64 min, qint64 max) const;
    bool boolean(const YAML::Node &node, const QString &field) const;
    double number(const YAML::Node &node, const QString &field) const;
    // A number within [min, max]; the message names the range.
    double number(const YAML::Node &node, const QString &field, double min, double max) const;
    QStringList stringList(const YAML::Node &node, const QString &field) const;
    // A map of HTTP header names to values, in document order: names must be RFC 9110
    // tokens and values single lines (they go into request heads as they are).
    std::vector<std::pair<QByteArray, QByteArray>> headerMap(const YAML::Node &node, const QString &field) const;

    static QString join(const QString &parent, const QString &key);
    static QString indexed(const QString &field, std::size_t index);

private:
    // ${VAR} and ${VAR:-default}
    QString expand(const YAML::Node &node, const QString &field, const QString &raw) const;

    QString m_source;
    const EnvLookup &m_env;
};

} // namespace Gateway::Config
