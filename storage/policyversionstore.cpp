#include "policyversionstore.h"

#include "database.h"
#include "sqlvalues.h"

#include <QDateTime>
#include <QLoggingCategory>
#include <QSqlError>
#include <QSqlQuery>

#include <algorithm>

namespace Storage {

namespace {

Q_LOGGING_CATEGORY(lcPolicyStore, "switchyard.storage.policy")

const QString SELECT_COLUMNS = QStringLiteral(
    "SELECT id, created_at_ms, author, comment, content_hash, document FROM policy_versions ");

StoredVersion readVersion(const QSqlQuery &query)
{
    StoredVersion version;
    version.id = query.value(0).toLongLong();
    version.createdAtMs = query.value(1).toLongLong();
    version.author = query.value(2).toString();
    version.comment = query.value(3).toString();
    version.contentHash = query.value(4).toString().toUtf8();
    version.document = query.value(5).toByteArray();
    return version;
}

} // namespace

PolicyVersionStore::PolicyVersionStore(Database &db)
    : m_db {db}
{
}

Gateway::Expected<qint64, QString> PolicyVersionStore::insert(const QByteArray &document, const QByteArray &contentHash,
                                                              const QString &author, const QString &comment)
{
    QSqlQuery query {m_db.connection()};
    query.prepare(QStringLiteral("INSERT INTO policy_versions (created_at_ms, author, comment, content_hash, document)"
                                 " VALUES (?, ?, ?, ?, ?)"));
    query.addBindValue(QDateTime::currentMSecsSinceEpoch());
    query.addBindValue(SqlValues::text(author));
    query.addBindValue(SqlValues::text(comment));
    query.addBindValue(SqlValues::text(contentHash));
    query.addBindValue(SqlValues::blob(document));
    if (!query.exec()) {
        return Gateway::Unexpected {QStringLiteral("cannot store the policy version: %1").arg(query.lastError().text())};
    }
    return query.lastInsertId().toLongLong();
}

Gateway::Expected<bool, QString> PolicyVersionStore::pointAt(qint64 id)
{
    QSqlQuery exists {m_db.connection()};
    exists.prepare(QStringLiteral("SELECT 1 FROM policy_versions WHERE id = ?"));
    exists.addBindValue(id);
    if (!exists.exec()) {
        return Gateway::Unexpected {QStringLiteral("cannot read policy versions: %1").arg(exists.lastError().text())};
    }
    if (!exists.next()) {
        return Gateway::Unexpected {QStringLiteral("policy version %1 does not exist").arg(id)};
    }
    exists.finish();

    QSqlQuery query {m_db.connection()};
    query.prepare(QStringLiteral("INSERT INTO active_policy (id, version_id) VALUES (1, ?)"
                                 " ON CONFLICT (id) DO UPDATE SET version_id = excluded.version_id"));
    query.addBindValue(id);
    if (!query.exec()) {
        return Gateway::Unexpected {QStringLiteral("cannot activate policy version %1: %2").arg(id).arg(query.lastError().text())};
    }
    return true;
}

Gateway::Expected<qint64, QString> PolicyVersionStore::addVersion(const QByteArray &document, const QByteArray &contentHash,
                                                                  const QString &author, const QString &comment)
{
    return insert(document, contentHash, author, comment);
}

Gateway::Expected<qint64, QString> PolicyVersionStore::addAndActivate(const QByteArray &document,
                                                                      const QByteArray &contentHash,
                                                                      const QString &author, const QString &comment,
                                                                      const InTransaction &alsoInTransaction)
{
    auto begun = m_db.beginWrite();
    if (!begun) {
        return Gateway::Unexpected {begun.error()};
    }
    auto id = insert(document, contentHash, author, comment);
    if (!id) {
        m_db.rollback();
        return id;
    }
    auto pointed = pointAt(*id);
    if (pointed && alsoInTransaction) {
        pointed = alsoInTransaction(*id);
    }
    if (!pointed) {
        m_db.rollback();
        return Gateway::Unexpected {pointed.error()};
    }
    auto committed = m_db.commit();
    if (!committed) {
        m_db.rollback();
        return Gateway::Unexpected {committed.error()};
    }
    return id;
}

Gateway::Expected<bool, QString> PolicyVersionStore::setActive(qint64 id, const InTransaction &alsoInTransaction)
{
    // One transaction so the existence check and the update see the same state.
    auto begun = m_db.beginWrite();
    if (!begun) {
        return begun;
    }
    auto pointed = pointAt(id);
    if (pointed && alsoInTransaction) {
        pointed = alsoInTransaction(id);
    }
    if (!pointed) {
        m_db.rollback();
        return pointed;
    }
    auto committed = m_db.commit();
    if (!committed) {
        m_db.rollback();
    }
    return committed;
}

std::optional<StoredVersion> PolicyVersionStore::version(qint64 id) const
{
    QSqlQuery query {m_db.connection()};
    query.prepare(SELECT_COLUMNS + QStringLiteral("WHERE id = ?"));
    query.addBindValue(id);
    if (!query.exec()) {
        qCWarning(lcPolicyStore) << "cannot read policy version" << id << query.lastError().text();
        return std::nullopt;
    }
    if (!query.next()) {
        return std::nullopt;
    }
    return readVersion(query);
}

QList<StoredVersion> PolicyVersionStore::versions(int limit, qint64 beforeId) const
{
    QList<StoredVersion> result;
    QSqlQuery query {m_db.connection()};
    query.setForwardOnly(true);
    query.prepare(SELECT_COLUMNS + QStringLiteral("WHERE (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?"));
    query.addBindValue(beforeId);
    query.addBindValue(beforeId);
    query.addBindValue(std::clamp(limit, 1, MAX_PAGE));
    if (!query.exec()) {
        qCWarning(lcPolicyStore) << "cannot list policy versions:" << query.lastError().text();
        return result;
    }
    while (query.next()) {
        result.append(readVersion(query));
    }
    return result;
}

std::optional<qint64> PolicyVersionStore::activeVersionId() const
{
    QSqlQuery query {m_db.connection()};
    if (!query.exec(QStringLiteral("SELECT version_id FROM active_policy WHERE id = 1"))) {
        qCWarning(lcPolicyStore) << "cannot read the active policy:" << query.lastError().text();
        return std::nullopt;
    }
    if (!query.next()) {
        return std::nullopt;
    }
    return query.value(0).toLongLong();
}

std::optional<StoredVersion> PolicyVersionStore::activeVersion() const
{
    QSqlQuery query {m_db.connection()};
    if (!query.exec(QStringLiteral("SELECT v.id, v.created_at_ms, v.author, v.comment, v.content_hash, v.document"
                                   " FROM active_policy a JOIN policy_versions v ON v.id = a.version_id"
                                   " WHERE a.id = 1"))) {
        qCWarning(lcPolicyStore) << "cannot read the active policy:" << query.lastError().text();
        return std::nullopt;
    }
    if (!query.next()) {
        return std::nullopt;
    }
    return readVersion(query);
}

} // namespace Storage
