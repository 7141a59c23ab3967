#pragma once

#include <QByteArray>
#include <QString>

#include <functional>

namespace Gateway::Admin {

// An answer of the admin API: status and a JSON (or YAML) body.
struct AdminReply {
    int status = 200;
    QByteArray contentType = "application/json";
    QByteArray body;
};

// Called exactly once, from any thread; the HTTP side marshals it back to its worker.
using ReplyCallback = std::function<void(AdminReply reply)>;

struct RequestFilter {
    qint64 sinceMs = 0;
    qint64 untilMs = 0; // 0 = now
    QByteArray route;
    QString virtualKey;
    int status = 0;
    int limit = 100;
    qint64 cursor = 0;
};

// GET /admin/v1/spend: totals from the spend journal over [sinceMs, untilMs).
struct SpendFilter {
    QByteArray groupBy = "key"; // key | team | route | day (UTC)
    qint64 sinceMs = 0;
    qint64 untilMs = 0; // 0 = now
    QString virtualKey;  // optional filters; empty = all
    QString team;
    QByteArray route;
};

// The operations behind /admin/v1/..., owned by the gateway and implemented by the
// store (storage/), which runs them on its own thread: SQL never runs on a worker.
// Every method returns at once and answers through `reply`.
class AdminService {
public:
    virtual ~AdminService() = default;

    virtual void getPolicy(bool asYaml, ReplyCallback reply) = 0;
    // `document` is YAML or JSON; "***" secrets keep the stored values.
    virtual void putPolicy(QByteArray document, bool dryRun, QString author, QString comment, ReplyCallback reply) = 0;
    virtual void listVersions(int limit, qint64 beforeId, ReplyCallback reply) = 0;
    virtual void getVersion(qint64 id, bool asYaml, ReplyCallback reply) = 0;
    virtual void diffVersions(qint64 fromId, qint64 toId, ReplyCallback reply) = 0;
    virtual void rollback(qint64 id, QString author, QString comment, ReplyCallback reply) = 0;
    // JSON body {"name": "...", "routes": [...]}; the reply carries the key once.
    virtual void createKey(QByteArray body, QString author, ReplyCallback reply) = 0;
    virtual void listKeys(ReplyCallback reply) = 0;
    virtual void deleteKey(QString name, QString author, ReplyCallback reply) = 0;
    virtual void listRequests(RequestFilter filter, ReplyCallback reply) = 0;
    virtual void listEvents(qint64 sinceMs, QString kind, int limit, ReplyCallback reply) = 0;
    // The audit log of admin changes, newest first: rows with at_ms >= sinceMs and, when
    // cursor > 0, id < cursor.
    virtual void listAudit(qint64 sinceMs, int limit, qint64 cursor, ReplyCallback reply) = 0;
    // Walks the audit log's hash chain; a non-empty `anchor` (a head hash recorded
    // earlier, hex) must still be in it.
    virtual void verifyAudit(QByteArray anchor, ReplyCallback reply) = 0;
    // Not every service keeps a spend journal: the default answers 503.
    virtual void spend(SpendFilter filter, ReplyCallback reply);
};

} // namespace Gateway::Admin
