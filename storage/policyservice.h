#pragma once

#include "admin/adminservice.h"
#include "config/policy.h"
#include "util/expected.h"

#include <QString>

#include <functional>
#include <memory>
#include <optional>

class QThread;

namespace Storage {

class LogWriter;
class StoreWorker;

// The store's service layer: policy versions (apply, list, diff, roll back), virtual
// keys, the request log, events and the audit log. Runs every operation on its own thread with its own
// SQLite connection; the admin API (through Gateway::Admin::AdminService), the console
// and the command line all go through it. Applying a version validates it first, stores
// it, then hands it to `apply`, which swaps the running configuration atomically.
class PolicyService final : public Gateway::Admin::AdminService {
public:
    struct Options {
        QString dataDirectory;
        LogWriter *log = nullptr; // events are recorded here; may be null
        // Called on the store's thread with each newly active policy; must be thread-safe.
        std::function<void(const Gateway::Config::Policy &)> apply;
        // Watch for versions activated by another process (`switchyard import` while
        // running) and apply them.
        int watchIntervalMs = 1000;
    };

    // Opens the store on a new thread. Blocks until it is open: start-up only.
    static Gateway::Expected<std::unique_ptr<PolicyService>, QString> start(Options options);
    ~PolicyService() override;
    PolicyService(const PolicyService &) = delete;
    PolicyService &operator=(const PolicyService &) = delete;

    struct Bootstrap {
        std::optional<Gateway::Config::Policy> policy; // the policy to run; none when the store is empty
        qint64 versionId = 0;
        bool imported = false; // `configured` became a new version
    };
    // Start-up (blocking): stores `configured` (from --config) as a new version unless it
    // equals the active one, and returns the policy to run.
    Gateway::Expected<Bootstrap, QString> bootstrap(const std::optional<Gateway::Config::Policy> &configured,
                                                    const QString &source);

    // Blocking helpers for the command line (no event loop needed).
    Gateway::Expected<qint64, QString> importPolicy(const Gateway::Config::Policy &policy, const QString &author,
                                                    const QString &comment, bool &created);
    Gateway::Expected<Gateway::Config::Policy, QString> activePolicy();

    // Gateway::Admin::AdminService
    void getPolicy(bool asYaml, Gateway::Admin::ReplyCallback reply) override;
    void putPolicy(QByteArray document, bool dryRun, QString author, QString comment,
                   Gateway::Admin::ReplyCallback reply) override;
    void listVersions(int limit, qint64 beforeId, Gateway::Admin::ReplyCallback reply) override;
    void getVersion(qint64 id, bool asYaml, Gateway::Admin::ReplyCallback reply) override;
    void diffVersions(qint64 fromId, qint64 toId, Gateway::Admin::ReplyCallback reply) override;
    void rollback(qint64 id, QString author, QString comment, Gateway::Admin::ReplyCallback reply) override;
    void createKey(QByteArray body, QString author, Gateway::Admin::ReplyCallback reply) override;
    void listKeys(Gateway::Admin::ReplyCallback reply) override;
    void deleteKey(QString name, QString author, Gateway::Admin::ReplyCallback reply) override;
    void listRequests(Gateway::Admin::RequestFilter filter, Gateway::Admin::ReplyCallback reply) override;
    void listEvents(qint64 sinceMs, QString kind, int limit, Gateway::Admin::ReplyCallback reply) override;
    void listAudit(qint64 sinceMs, int limit, qint64 cursor, Gateway::Admin::ReplyCallback reply) override;
    void verifyAudit(QByteArray anchor, Gateway::Admin::ReplyCallback reply) override;
    void spend(Gateway::Admin::SpendFilter filter, Gateway::Admin::ReplyCallback reply) override;

private:
    PolicyService() = default;

    // Runs `work` on the store's thread, asynchronously or (start-up, CLI) waiting.
    void post(std::function<void(StoreWorker &)> work);
    void run(std::function<void(StoreWorker &)> work);

    std::unique_ptr<QThread> m_thread;
    StoreWorker *m_worker = nullptr; // lives on m_thread, deleted there
};

} // namespace Storage
