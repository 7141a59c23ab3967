// Every admin change made through the policy service appends exactly one audit row, in
// the same transaction, with the right actor and action; no secret reaches the log.

#include "auditlog.h"
#include "database.h"
#include "policyservice.h"

#include "config/policyloader.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

#include <chrono>
#include <future>

using Gateway::Admin::AdminReply;
using Gateway::Admin::ReplyCallback;

namespace {

const QByteArray PROVIDER_SECRET = QByteArrayLiteral("sk-live-audit-provider-secret-31337");
const QByteArray ROTATED_SECRET = QByteArrayLiteral("sk-live-audit-rotated-secret-4711");
const QByteArray ADMIN_TOKEN = QByteArrayLiteral("admin-token-audit-test-0042");

QByteArray policyYaml(const QByteArray &secret, const QByteArray &extraRoute = {})
{
    return "gateway:\n"
           "  admin_token: " + ADMIN_TOKEN + "\n"
           "providers:\n"
           "  - name: a\n"
           "    type: openai\n"
           "    base_url: http://127.0.0.1:9/v1\n"
           "    keys: [{name: k1, secret: " + secret + "}]\n"
           "routes:\n"
           "  - model: chat\n"
           "    targets: [{provider: a, model: m}]\n" + extraRoute;
}

Gateway::Config::Policy parse(const QByteArray &yaml)
{
    const auto noEnvironment = [](const QString &) -> std::optional<QByteArray> { return std::nullopt; };
    auto policy = Gateway::Config::parsePolicy(yaml, QStringLiteral("test"), noEnvironment);
    return policy ? policy.value() : Gateway::Config::Policy {};
}

QJsonObject json(const AdminReply &reply)
{
    return QJsonDocument::fromJson(reply.body).object();
}

} // namespace

class TestPolicyAudit final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void everyChangeKindAppendsOneRow();
    void unchangedApplyAppendsNothing();
    void failedChangeAppendsNothing();
    void policyDiffIsRedacted();
    void secretsNeverReachTheAuditLog();

private:
    // Calls an AdminService method and waits for its reply (the store answers on its
    // own thread).
    AdminReply call(const std::function<void(ReplyCallback)> &method);
    QJsonArray auditRows(); // oldest first

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Storage::PolicyService> m_store;
};

void TestPolicyAudit::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    Storage::PolicyService::Options options;
    options.dataDirectory = m_dir->path();
    options.watchIntervalMs = 0;
    auto store = Storage::PolicyService::start(options);
    QVERIFY2(store.hasValue(), store.hasValue() ? "" : qPrintable(store.error()));
    m_store = std::move(store).value();
    auto boot = m_store->bootstrap(parse(policyYaml(PROVIDER_SECRET)), QStringLiteral("policy.yaml"));
    QVERIFY2(boot.hasValue(), boot.hasValue() ? "" : qPrintable(boot.error()));
}

void TestPolicyAudit::cleanup()
{
    m_store.reset();
    m_dir.reset();
}

AdminReply TestPolicyAudit::call(const std::function<void(ReplyCallback)> &method)
{
    auto promise = std::make_shared<std::promise<AdminReply>>();
    auto answer = promise->get_future();
    method([promise](AdminReply reply) { promise->set_value(std::move(reply)); });
    if (answer.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
        return AdminReply {0, {}, "no reply"};
    }
    return answer.get();
}

QJsonArray TestPolicyAudit::auditRows()
{
    const auto reply = call([this](ReplyCallback reply) { m_store->listAudit(0, 1000, 0, std::move(reply)); });
    QJsonArray rows;
    const QJsonArray newestFirst = json(reply)[u"data"_qs].toArray();
    for (qsizetype i = newestFirst.size() - 1; i >= 0; --i) {
        rows.append(newestFirst.at(i));
    }
    return rows;
}

void TestPolicyAudit::everyChangeKindAppendsOneRow()
{
    // bootstrap (init) -> import (CLI path) -> PUT -> key create -> key revoke -> rollback
    bool created = false;
    auto imported = m_store->importPolicy(parse(policyYaml(PROVIDER_SECRET, "  - model: two\n    targets: [{provider: a, model: m2}]\n")),
                                          QStringLiteral("cli:tester"), QStringLiteral("imported from p.yaml"), created);
    QVERIFY(imported.hasValue());
    QVERIFY(created);
    const auto put = call([this](ReplyCallback reply) {
        m_store->putPolicy(policyYaml("\"***\"", "  - model: three\n    targets: [{provider: a, model: m3}]\n"), false,
                           QStringLiteral("admin-api"), QStringLiteral("add three"), std::move(reply));
    });
    QCOMPARE(put.status, 200);
    const auto key = call([this](ReplyCallback reply) {
        m_store->createKey(R"({"name":"team-a","routes":["chat"]})", QStringLiteral("admin-api"), std::move(reply));
    });
    QCOMPARE(key.status, 201);
    const auto revoked = call([this](ReplyCallback reply) {
        m_store->deleteKey(QStringLiteral("team-a"), QStringLiteral("alice"), std::move(reply));
    });
    QCOMPARE(revoked.status, 200);
    const auto rolledBack = call([this](ReplyCallback reply) {
        m_store->rollback(1, QStringLiteral("admin-api"), {}, std::move(reply));
    });
    QCOMPARE(rolledBack.status, 200);

    const QJsonArray rows = auditRows();
    QCOMPARE(rows.size(), 6);
    const QList<std::pair<QString, QString>> expected {
        {QStringLiteral("config-file"), QStringLiteral("policy.bootstrap")},
        {QStringLiteral("cli:tester"), QStringLiteral("policy.import")},
        {QStringLiteral("admin-api"), QStringLiteral("policy.apply")},
        {QStringLiteral("admin-api"), QStringLiteral("key.create")},
        {QStringLiteral("alice"), QStringLiteral("key.revoke")},
        {QStringLiteral("admin-api"), QStringLiteral("policy.rollback")},
    };
    for (qsizetype i = 0; i < rows.size(); ++i) {
        const QJsonObject row = rows.at(i).toObject();
        QCOMPARE(row[u"id"_qs].toInteger(), i + 1);
        QCOMPARE(row[u"actor"_qs].toString(), expected.at(i).first);
        QCOMPARE(row[u"action"_qs].toString(), expected.at(i).second);
    }
    QCOMPARE(rows.at(0).toObject()[u"subject"_qs].toString(), QStringLiteral("policy version 1"));
    QCOMPARE(rows.at(0).toObject()[u"detail"_qs].toObject()[u"previous_version"_qs].isNull(), true);
    QCOMPARE(rows.at(2).toObject()[u"detail"_qs].toObject()[u"comment"_qs].toString(), QStringLiteral("add three"));
    QCOMPARE(rows.at(3).toObject()[u"subject"_qs].toString(), QStringLiteral("virtual key team-a"));
    QCOMPARE(rows.at(4).toObject()[u"subject"_qs].toString(), QStringLiteral("virtual key team-a"));
    const QJsonObject rollback = rows.at(5).toObject()[u"detail"_qs].toObject();
    QCOMPARE(rollback[u"version"_qs].toInteger(), 1);
    QCOMPARE(rollback[u"previous_version"_qs].toInteger(), 5);
    QVERIFY(rollback[u"diff"_qs].toString().contains(u"-  - model: three"));

    const auto verified = call([this](ReplyCallback reply) { m_store->verifyAudit({}, std::move(reply)); });
    QCOMPARE(verified.status, 200);
    QCOMPARE(json(verified)[u"ok"_qs].toBool(), true);
    QCOMPARE(json(verified)[u"rows_checked"_qs].toInteger(), 6);
    QCOMPARE(json(verified)[u"head_hash"_qs].toString(), rows.at(5).toObject()[u"row_hash"_qs].toString());
}

void TestPolicyAudit::unchangedApplyAppendsNothing()
{
    // The same document again stores no version, so there is no change to audit.
    const auto put = call([this](ReplyCallback reply) {
        m_store->putPolicy(policyYaml("\"***\""), false, QStringLiteral("admin-api"), {}, std::move(reply));
    });
    QCOMPARE(put.status, 200);
    QCOMPARE(json(put)[u"created"_qs].toBool(), false);
    QCOMPARE(auditRows().size(), 1);
}

void TestPolicyAudit::failedChangeAppendsNothing()
{
    // Refused before the store is touched ...
    QCOMPARE(call([this](ReplyCallback reply) {
                 m_store->deleteKey(QStringLiteral("nobody"), QStringLiteral("admin-api"), std::move(reply));
             }).status,
             404);
    QCOMPARE(call([this](ReplyCallback reply) { m_store->rollback(99, QStringLiteral("admin-api"), {}, std::move(reply)); })
                 .status,
             404);
    QCOMPARE(auditRows().size(), 1);

    // ... and when the audit row itself cannot be written, the change is rolled back
    // with it: no change commits unaudited.
    {
        auto db = Storage::Database::open(Storage::Database::defaultPath(m_dir->path()));
        QVERIFY(db.hasValue());
        QVERIFY((*db)->execute(QStringLiteral("CREATE TRIGGER audit_refuse BEFORE INSERT ON audit_log"
                                              " BEGIN SELECT RAISE(ABORT, 'refused for the test'); END")));
    }
    const auto put = call([this](ReplyCallback reply) {
        m_store->putPolicy(policyYaml("\"***\"", "  - model: lost\n    targets: [{provider: a, model: m}]\n"), false,
                           QStringLiteral("admin-api"), {}, std::move(reply));
    });
    QCOMPARE(put.status, 500);
    QVERIFY2(put.body.contains("refused for the test"), put.body.constData());
    const auto versions = call([this](ReplyCallback reply) { m_store->listVersions(100, 0, std::move(reply)); });
    QCOMPARE(json(versions)[u"data"_qs].toArray().size(), 1);
}

void TestPolicyAudit::policyDiffIsRedacted()
{
    bool created = false;
    // Only the secret changes: the diff shows a change nowhere (both sides are "***"),
    // but the row still records that version 2 replaced version 1.
    QVERIFY(m_store->importPolicy(parse(policyYaml(ROTATED_SECRET)), QStringLiteral("cli:tester"), QStringLiteral("rotate"),
                                  created));
    QVERIFY(created);
    const QJsonObject detail = auditRows().at(1).toObject()[u"detail"_qs].toObject();
    QCOMPARE(detail[u"version"_qs].toInteger(), 2);
    QCOMPARE(detail[u"previous_version"_qs].toInteger(), 1);
    QCOMPARE(detail[u"diff"_qs].toString(), QString());

    const QByteArray extra = "  - model: four\n    targets: [{provider: a, model: m4}]\n";
    QVERIFY(m_store->importPolicy(parse(policyYaml(ROTATED_SECRET, extra)), QStringLiteral("cli:tester"), {}, created));
    const QString diff = auditRows().at(2).toObject()[u"detail"_qs].toObject()[u"diff"_qs].toString();
    QVERIFY2(diff.startsWith(u"--- version 2\n+++ version 3\n"), qPrintable(diff));
    QVERIFY2(diff.contains(u"+  - model: four"), qPrintable(diff));
    QVERIFY(!diff.contains(QString::fromLatin1(ROTATED_SECRET)));
}

void TestPolicyAudit::secretsNeverReachTheAuditLog()
{
    bool created = false;
    QVERIFY(m_store->importPolicy(parse(policyYaml(ROTATED_SECRET)), QStringLiteral("cli:tester"), {}, created));
    const auto key = call([this](ReplyCallback reply) {
        m_store->createKey(R"({"name":"team-b"})", QStringLiteral("admin-api"), std::move(reply));
    });
    QCOMPARE(key.status, 201);
    const QByteArray plaintextKey = json(key)[u"key"_qs].toString().toUtf8();
    QVERIFY(plaintextKey.startsWith("sk-sy-"));
    const QByteArray keyDigest = QCryptographicHash::hash(plaintextKey, QCryptographicHash::Sha256).toHex();
    QCOMPARE(call([this](ReplyCallback reply) {
                 m_store->deleteKey(QStringLiteral("team-b"), QStringLiteral("admin-api"), std::move(reply));
             }).status,
             200);

    // The audit table's own text ...
    {
        auto db = Storage::Database::open(Storage::Database::defaultPath(m_dir->path()));
        QVERIFY(db.hasValue());
        QSqlQuery query {(*db)->connection()};
        QVERIFY(query.exec(QStringLiteral("SELECT actor || action || subject || detail FROM audit_log")));
        int rows = 0;
        bool keyShown = false;
        while (query.next()) {
            ++rows;
            const QByteArray text = query.value(0).toString().toUtf8();
            // The diff does show the key's entry, by name and redacted.
            keyShown = keyShown || (text.contains("name: team-b") && text.contains("key: \\\"***\\\""));
            for (const QByteArray &secret : {PROVIDER_SECRET, ROTATED_SECRET, ADMIN_TOKEN, plaintextKey, keyDigest}) {
                QVERIFY2(!text.contains(secret), text.constData());
            }
        }
        QCOMPARE(rows, 4);
        QVERIFY(keyShown);
    }
    // ... and every byte the store wrote (database, WAL), not only what SQL shows.
    for (const QString &name : QDir(m_dir->path()).entryList(QDir::Files)) {
        if (name.endsWith(u".key") || name.endsWith(u".token")) {
            continue;
        }
        QFile file {m_dir->filePath(name)};
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray bytes = file.readAll();
        for (const QByteArray &secret : {PROVIDER_SECRET, ROTATED_SECRET, ADMIN_TOKEN, plaintextKey}) {
            QVERIFY2(!bytes.contains(secret), qPrintable(name));
        }
    }
}

QTEST_GUILESS_MAIN(TestPolicyAudit)
#include "testpolicyaudit.moc"
