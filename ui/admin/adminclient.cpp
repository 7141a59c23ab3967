#include "adminclient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QPointer>

#include <mutex>

namespace Ui {

// The store answers on its own thread, possibly after this client is gone (the window
// closes before the store shuts down). The mailbox outlives both: the destructor clears
// the target under the lock, so a late answer is dropped instead of posted to a dead
// object.
struct AdminClient::Mailbox {
    std::mutex mutex;
    AdminClient *target = nullptr;
};

AdminClient::AdminClient(Gateway::Admin::AdminService &service, QObject *parent)
    : QObject {parent}
    , m_service {service}
    , m_mailbox {std::make_shared<Mailbox>()}
{
    m_mailbox->target = this;
}

AdminClient::~AdminClient()
{
    const std::lock_guard lock {m_mailbox->mutex};
    m_mailbox->target = nullptr;
}

Gateway::Admin::ReplyCallback AdminClient::deliver(QObject *context, Handler handler, bool changesPolicy)
{
    return [mailbox = m_mailbox, guard = QPointer<QObject>(context), handler = std::move(handler),
            changesPolicy](Gateway::Admin::AdminReply reply) mutable {
        const std::lock_guard lock {mailbox->mutex};
        AdminClient *client = mailbox->target;
        if (client == nullptr) {
            return;
        }
        AdminReply answer {reply.status, std::move(reply.body)};
        QMetaObject::invokeMethod(
            client,
            [client, guard = std::move(guard), handler = std::move(handler), answer = std::move(answer), changesPolicy] {
                // Only dereferenced here, on the GUI thread, where the context lives.
                if (guard && handler) {
                    handler(answer);
                }
                if (changesPolicy && answer.ok()) {
                    emit client->policyChanged();
                }
            },
            Qt::QueuedConnection);
    };
}

void AdminClient::activePolicyYaml(QObject *context, Handler handler)
{
    m_service.getPolicy(true, deliver(context, std::move(handler)));
}

void AdminClient::activePolicyJson(QObject *context, Handler handler)
{
    m_service.getPolicy(false, deliver(context, std::move(handler)));
}

void AdminClient::putPolicy(const QByteArray &document, bool dryRun, const QString &comment, QObject *context,
                            Handler handler)
{
    m_service.putPolicy(document, dryRun, Author.toString(), comment, deliver(context, std::move(handler), !dryRun));
}

void AdminClient::listVersions(int limit, QObject *context, Handler handler)
{
    m_service.listVersions(limit, 0, deliver(context, std::move(handler)));
}

void AdminClient::versionYaml(qint64 id, QObject *context, Handler handler)
{
    m_service.getVersion(id, true, deliver(context, std::move(handler)));
}

void AdminClient::diffVersions(qint64 fromId, qint64 toId, QObject *context, Handler handler)
{
    m_service.diffVersions(fromId, toId, deliver(context, std::move(handler)));
}

void AdminClient::rollback(qint64 id, const QString &comment, QObject *context, Handler handler)
{
    m_service.rollback(id, Author.toString(), comment, deliver(context, std::move(handler), true));
}

void AdminClient::createKey(const QString &name, const QStringList &routes, QObject *context, Handler handler)
{
    QJsonObject body {{QStringLiteral("name"), name}};
    if (!routes.isEmpty()) {
        body.insert(QStringLiteral("routes"), QJsonArray::fromStringList(routes));
    }
    m_service.createKey(QJsonDocument(body).toJson(QJsonDocument::Compact), Author.toString(),
                        deliver(context, std::move(handler), true));
}

void AdminClient::listKeys(QObject *context, Handler handler)
{
    m_service.listKeys(deliver(context, std::move(handler)));
}

void AdminClient::revokeKey(const QString &name, QObject *context, Handler handler)
{
    m_service.deleteKey(name, Author.toString(), deliver(context, std::move(handler), true));
}

void AdminClient::listRequests(const Gateway::Admin::RequestFilter &filter, QObject *context, Handler handler)
{
    m_service.listRequests(filter, deliver(context, std::move(handler)));
}

void AdminClient::listEvents(qint64 sinceMs, const QString &kind, int limit, QObject *context, Handler handler)
{
    m_service.listEvents(sinceMs, kind, limit, deliver(context, std::move(handler)));
}

} // namespace Ui
