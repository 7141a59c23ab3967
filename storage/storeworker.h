#pragma once

#include "admin/adminservice.h"
#include "config/policy.h"
#include "util/expected.h"

#include <QObject>
#include <QTimer>

#include <functional>
#include <memory>

namespace Storage {

class Database;
class LogReader;
class LogWriter;
class PolicyRepository;
class SecretBox;

// The state of the policy service on its own thread: the SQLite connection, the
// repository and what is currently applied. Every method runs on that thread.
class StoreWorker final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(StoreWorker)

public:
    StoreWorker(LogWriter *log, std::function<void(const Gateway::Config::Policy &)> apply, int watchIntervalMs);
    ~StoreWorker() override;

    Gateway::Expected<bool, QString> open(const QString &dataDirectory);

    PolicyRepository &repository() { return *m_repository; }
    LogReader &reader() { return *m_reader; }
    Database &database() { return *m_database; }

    // Validated policy -> new active version (audited as `action` on `subject`, see
    // PolicyRepository::saveAndActivate) -> running gateway. Records an event.
    Gateway::Expected<qint64, QString> applyPolicy(const Gateway::Config::Policy &policy, const QString &author,
                                                   const QString &comment, const QString &action,
                                                   const QString &subject, bool &created);
    // Makes `versionId` active (audited as a rollback) and runs it.
    Gateway::Expected<bool, QString> activateVersion(qint64 versionId, const QString &author, const QString &comment);
    Gateway::Expected<Gateway::Config::Policy, QString> activePolicy();

    void recordEvent(const QString &kind, const QString &subject, const QByteArray &detailJson);

private:
    void watchActiveVersion();

    std::unique_ptr<SecretBox> m_box;
    std::unique_ptr<Database> m_database;
    std::unique_ptr<PolicyRepository> m_repository;
    std::unique_ptr<LogReader> m_reader;
    LogWriter *m_log;
    std::function<void(const Gateway::Config::Policy &)> m_apply;
    QTimer m_watchTimer;
    qint64 m_appliedVersion = 0;
};

} // namespace Storage
