#pragma once

#include "adminreply.h"

#include "admin/adminservice.h"

#include <QObject>
#include <QStringList>

#include <functional>
#include <memory>

namespace Ui {

// The console's way to the store: wraps the gateway-owned Admin::AdminService (which the
// store implements on its own thread) and brings every answer back to the GUI thread.
// Calls return at once; SQL never runs on the GUI thread. A handler runs only if its
// context object still exists when the answer arrives, so a view may close at any time.
class AdminClient final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(AdminClient)

public:
    using Handler = std::function<void(const AdminReply &reply)>;

    // Recorded as the author of versions the console creates.
    static constexpr QStringView Author = u"console";

    explicit AdminClient(Gateway::Admin::AdminService &service, QObject *parent = nullptr);
    ~AdminClient() override;

    void activePolicyYaml(QObject *context, Handler handler);
    void activePolicyJson(QObject *context, Handler handler);
    void putPolicy(const QByteArray &document, bool dryRun, const QString &comment, QObject *context, Handler handler);
    void listVersions(int limit, QObject *context, Handler handler);
    void versionYaml(qint64 id, QObject *context, Handler handler);
    void diffVersions(qint64 fromId, qint64 toId, QObject *context, Handler handler);
    void rollback(qint64 id, const QString &comment, QObject *context, Handler handler);
    void createKey(const QString &name, const QStringList &routes, QObject *context, Handler handler);
    void listKeys(QObject *context, Handler handler);
    void revokeKey(const QString &name, QObject *context, Handler handler);
    void listRequests(const Gateway::Admin::RequestFilter &filter, QObject *context, Handler handler);
    void listEvents(qint64 sinceMs, const QString &kind, int limit, QObject *context, Handler handler);

signals:
    // A new policy version became active through this client (apply, rollback, key
    // created or revoked): views showing the policy reload.
    void policyChanged();

private:
    struct Mailbox;

    // Wraps handler into the service's any-thread callback; `changesPolicy` emits
    // policyChanged() after a successful answer.
    Gateway::Admin::ReplyCallback deliver(QObject *context, Handler handler, bool changesPolicy = false);

    Gateway::Admin::AdminService &m_service;
    std::shared_ptr<Mailbox> m_mailbox;
};

} // namespace Ui
