#include "documentreader.h"

#include "yamlerror.h"

#include <QRegularExpression>

#include <cmath>

namespace Gateway::Config {

DocumentReader::DocumentReader(QString source, const EnvLookup &env)
    : m_source {std::move(source)}
    , m_env {env}
{
}

void DocumentReader::fail(const YAML::Node &node, const QString &field, const QString &message) const
{
    throw ParseFailure {errorAt(node, m_source, field, message)};
}

void DocumentReader::requireMap(const YAML::Node &node, const QString &field) const
{
    if (!node.IsMap()) {
        fail(node, field, QStringLiteral("expected a mapping"));
    }
}

void DocumentReader::requireSequence(const YAML::Node &node, const QString &field) const
{
    if (!node.IsSequence()) {
        fail(node, field, QStringLiteral("expected a list"));
    }
}

void DocumentReader::checkKeys(const YAML::Node &map, const QString &field, std::initializer_list<const char *> allowed) const
{
    for (const auto &entry : map) {
        const auto key = QString::fromStdString(entry.first.as<std::string>());
        bool known = false;
        QStringList names;
        for (const char *name : allowed) {
            names << QString::fromLatin1(name);
            known = known || key == QLatin1String(name);
        }
        if (!known) {
            fail(entry.first, join(field, key),
                 QStringLiteral("unknown key '%1' (allowed: %2)").arg(key, names.join(QStringLiteral(", "))));
        }
    }
}

QString DocumentReader::string(const YAML::Node &node, const QString &field) const
{
    if (!node.IsScalar()) {
        fail(node, field, QStringLiteral("expected a string"));
    }
    return expand(node, field, QString::fromStdString(node.Scalar()));
}

QString DocumentReader::requiredString(const YAML::Node &map, const char *key, const QString &parent) const
{
    const QString field = join(parent, QString::fromLatin1(key));
    const YAML::Node node = map[key];
    if (!node) {
        fail(map, field, QStringLiteral("required field is missing"));
    }
    const QString value = string(node, field);
    if (value.isEmpty()) {
        fail(node, field, QStringLiteral("must not be empty"));
    }
    return value;
}

qint64 DocumentReader::integer(const YAML::Node &node, const QString &field, qint64 min, qint64 max) const
{
    bool ok = false;
    const qint64 value = string(node, field).toLongLong(&ok);
    if (!ok) {
        fail(node, field, QStringLiteral("expected an integer"));
    }
    if (value < min || value > max) {
        fail(node, field, QStringLiteral("must be between %1 and %2").arg(min).arg(max));
    }
    return value;
}

bool DocumentReader::boolean(const YAML::Node &node, const QString &field) const
{
    const QString text = string(node, field);
    if (text == u"true") {
        return true;
    }
    if (text != u"false") {
        fail(node, field, QStringLiteral("expected true or false"));
    }
    return false;
}

double DocumentReader::number(const YAML::Node &node, const QString &field) const
{
    bool ok = false;
    const double value = string(node, field).toDouble(&ok);
    if (!ok || !std::isfinite(value)) {
        fail(node, field, QStringLiteral("expected a number"));
    }
    return value;
}

QStringList DocumentReader::stringList(const YAML::Node &node, const QString &field) const
{
    requireSequence(node, field);
    QStringList values;
    for (std::size_t i = 0; i < node.size(); ++i) {
        values << string(node[i], indexed(field, i));
    }
    return values;
}

std::vector<std::pair<QByteArray, QByteArray>> DocumentReader::headerMap(const YAML::Node &node, const QString &field) const
{
    requireMap(node, field);
    static const QRegularExpression token {QStringLiteral("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")};
    std::vector<std::pair<QByteArray, QByteArray>> headers;
    for (const auto &entry : node) {
        const QString name = QString::fromStdString(entry.first.as<std::string>());
        const QString headerField = join(field, name);
        if (!token.match(name).hasMatch()) {
            fail(entry.first, headerField, QStringLiteral("'%1' is not a valid header name").arg(name));
        }
        const QString value = string(entry.second, headerField);
        if (value.contains(u'\r') || value.contains(u'\n')) {
            fail(entry.second, headerField, QStringLiteral("header values must not contain line breaks"));
        }
        headers.emplace_back(name.toLatin1(), value.toUtf8());
    }
    return headers;
}

QString DocumentReader::join(const QString &parent, const QString &key)
{
    return parent.isEmpty() ? key : parent + u'.' + key;
}

QString DocumentReader::indexed(const QString &field, std::size_t index)
{
    return field + u'[' + QString::number(index) + u']';
}

QString DocumentReader::expand(const YAML::Node &node, const QString &field, const QString &raw) const
{
    static const QRegularExpression pattern {QStringLiteral(R"(\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\})")};
    if (!raw.contains(QLatin1String("${"))) {
        return raw;
    }
    QString result;
    qsizetype last = 0;
    auto it = pattern.globalMatch(raw);
    while (it.hasNext()) {
        const auto match = it.next();
        result += raw.mid(last, match.capturedStart() - last);
        const QString name = match.captured(1);
        const auto value = m_env(name);
        if (value) {
            result += QString::fromUtf8(*value);
        } else if (match.capturedStart(2) >= 0) {
            result += match.captured(3);
        } else {
            fail(node, field,
                 QStringLiteral("environment variable %1 is not set (write ${%1:-} to allow an empty value)").arg(name));
        }
        last = match.capturedEnd();
    }
    result += raw.mid(last);
    return result;
}

double DocumentReader::number(const YAML::Node &node, const QString &field, double min, double max) const
{
    const double value = number(node, field);
    if (value < min || value > max) {
        fail(node, field, QStringLiteral("must be between %1 and %2").arg(min).arg(max));
    }
    return value;
}

} // namespace Gateway::Config
