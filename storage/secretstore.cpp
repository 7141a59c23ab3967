#include "secretstore.h"

#include "database.h"
#include "secretbox.h"
#include "sqlvalues.h"

#include <QDateTime>
#include <QLoggingCategory>
#include <QSqlError>
#include <QSqlQuery>

namespace Storage {

namespace {

Q_LOGGING_CATEGORY(lcSecretStore, "switchyard.storage.secrets")

} // namespace

SecretStore::SecretStore(Database &db, const SecretBox &box)
    : m_db {db}
    , m_box {box}
{
}

Gateway::Expected<bool, QString> SecretStore::put(const QString &name, QByteArrayView plaintext)
{
    if (name.isEmpty()) {
        return Gateway::Unexpected {QStringLiteral("a secret needs a name")};
    }
    const QByteArray sealed = m_box.seal(plaintext, name.toUtf8());
    if (sealed.isEmpty()) {
        return Gateway::Unexpected {QStringLiteral("cannot seal secret %1 (at most %2 bytes)").arg(name).arg(SecretBox::MAX_PLAINTEXT)};
    }
    QSqlQuery query {m_db.connection()};
    query.prepare(QStringLiteral("INSERT INTO secrets (name, sealed, updated_at_ms) VALUES (?, ?, ?)"
                                 " ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at_ms = excluded.updated_at_ms"));
    query.addBindValue(name);
    query.addBindValue(SqlValues::blob(sealed));
    query.addBindValue(QDateTime::currentMSecsSinceEpoch());
    if (!query.exec()) {
        return Gateway::Unexpected {QStringLiteral("cannot store secret %1: %2").arg(name, query.lastError().text())};
    }
    return true;
}

std::optional<QByteArray> SecretStore::get(const QString &name) const
{
    QSqlQuery query {m_db.connection()};
    query.prepare(QStringLiteral("SELECT sealed FROM secrets WHERE name = ?"));
    query.addBindValue(name);
    if (!query.exec()) {
        qCWarning(lcSecretStore) << "cannot read secret" << name << query.lastError().text();
        return std::nullopt;
    }
    if (!query.next()) {
        return std::nullopt;
    }
    auto opened = m_box.open(query.value(0).toByteArray(), name.toUtf8());
    if (!opened) {
        qCWarning(lcSecretStore) << "secret" << name << "cannot be decrypted:" << opened.error();
        return std::nullopt;
    }
    return std::move(opened).value();
}

Gateway::Expected<bool, QString> SecretStore::remove(const QString &name)
{
    QSqlQuery query {m_db.connection()};
    query.prepare(QStringLiteral("DELETE FROM secrets WHERE name = ?"));
    query.addBindValue(name);
    if (!query.exec()) {
        return Gateway::Unexpected {QStringLiteral("cannot remove secret %1: %2").arg(name, query.lastError().text())};
    }
    return query.numRowsAffected() > 0;
}

QStringList SecretStore::names() const
{
    QStringList result;
    QSqlQuery query {m_db.connection()};
    query.setForwardOnly(true);
    if (!query.exec(QStringLiteral("SELECT name FROM secrets ORDER BY name"))) {
        qCWarning(lcSecretStore) << "cannot list secrets:" << query.lastError().text();
        return result;
    }
    while (query.next()) {
        result.append(query.value(0).toString());
    }
    return result;
}

} // namespace Storage
