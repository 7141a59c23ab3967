#include "storeworker.h"

#include "database.h"
#include "logreader.h"
#include "logwriter.h"
#include "masterkey.h"
#include "policyrepository.h"
#include "runtime/eventkinds.h"
#include "secretbox.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtDebug>

namespace Storage {

StoreWorker::StoreWorker(LogWriter *log, std::function<void(const Gateway::Config::Policy &)> apply, int watchIntervalMs)
    : m_log {log}
    , m_apply {std::move(apply)}
{
    // Parented so moveToThread() takes the timer along to the store's thread.
    m_watchTimer.setParent(this);
    m_watchTimer.setInterval(watchIntervalMs);
    connect(&m_watchTimer, &QTimer::timeout, this, &StoreWorker::watchActiveVersion);
}

StoreWorker::~StoreWorker()
{
    m_reader.reset();
    m_repository.reset();
    m_database.reset(); // closes the connection on this thread, where it was opened
}

Gateway::Expected<bool, QString> StoreWorker::open(const QString &dataDirectory)
{
    auto key = openMasterKey(dataDirectory);
    if (!key) {
        return Gateway::Unexpected {key.error()};
    }
    m_box = std::move(key->box);
    auto database = Database::open(Database::defaultPath(dataDirectory));
    if (!database) {
        return Gateway::Unexpected {database.error()};
    }
    m_database = std::move(database).value();
    m_repository = std::make_unique<PolicyRepository>(*m_database, *m_box);
    m_reader = std::make_unique<LogReader>(*m_database);
    m_appliedVersion = m_repository->activeVersionId().value_or(0);
    if (m_watchTimer.interval() > 0) {
        m_watchTimer.start();
    }
    return true;
}

void StoreWorker::recordEvent(const QString &kind, const QString &subject, const QByteArray &detailJson)
{
    if (m_log) {
        m_log->recordEvent(kind, subject, detailJson);
    }
}

Gateway::Expected<qint64, QString> StoreWorker::applyPolicy(const Gateway::Config::Policy &policy, const QString &author,
                                                            const QString &comment, const QString &action,
                                                            const QString &subject, bool &created)
{
    auto saved = m_repository->saveAndActivate(policy, author, comment, action, subject);
    if (!saved) {
        return Gateway::Unexpected {saved.error()};
    }
    created = saved->created;
    if (saved->created || saved->versionId != m_appliedVersion) {
        m_appliedVersion = saved->versionId;
        if (m_apply) {
            m_apply(policy);
        }
        const QJsonObject detail {{QStringLiteral("version"), saved->versionId},
                                  {QStringLiteral("author"), author},
                                  {QStringLiteral("comment"), comment}};
        recordEvent(QString(Gateway::EventKinds::POLICY_APPLIED), QStringLiteral("version %1").arg(saved->versionId),
                    QJsonDocument(detail).toJson(QJsonDocument::Compact));
    }
    return saved->versionId;
}

Gateway::Expected<bool, QString> StoreWorker::activateVersion(qint64 versionId, const QString &author,
                                                              const QString &comment)
{
    auto policy = m_repository->load(versionId);
    if (!policy) {
        return Gateway::Unexpected {policy.error()};
    }
    auto activated = m_repository->activate(versionId, author, comment);
    if (!activated) {
        return Gateway::Unexpected {activated.error()};
    }
    m_appliedVersion = versionId;
    if (m_apply) {
        m_apply(policy.value());
    }
    const QJsonObject detail {{QStringLiteral("version"), versionId},
                              {QStringLiteral("author"), author},
                              {QStringLiteral("comment"), comment}};
    recordEvent(QString(Gateway::EventKinds::ROLLBACK), QStringLiteral("version %1").arg(versionId),
                QJsonDocument(detail).toJson(QJsonDocument::Compact));
    return true;
}

Gateway::Expected<Gateway::Config::Policy, QString> StoreWorker::activePolicy()
{
    const auto active = m_repository->activeVersionId();
    if (!active) {
        return Gateway::Config::Policy {};
    }
    return m_repository->load(*active);
}

void StoreWorker::watchActiveVersion()
{
    const auto active = m_repository->activeVersionId();
    if (!active || *active == m_appliedVersion) {
        return;
    }
    auto policy = m_repository->load(*active);
    if (!policy) {
        qWarning().noquote() << "switchyard: cannot apply policy version" << *active << ":" << policy.error();
        m_appliedVersion = *active; // do not retry every tick; the next change is picked up
        return;
    }
    m_appliedVersion = *active;
    if (m_apply) {
        m_apply(policy.value());
    }
    recordEvent(QString(Gateway::EventKinds::POLICY_APPLIED), QStringLiteral("version %1").arg(*active),
                QByteArrayLiteral("{\"source\":\"another process\"}"));
}

} // namespace Storage
