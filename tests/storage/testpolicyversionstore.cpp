// Policy history and the active pointer: append-only versions, keyset pages, and
// activation that is all-or-nothing.

#include "database.h"
#include "policyversionstore.h"

#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using Storage::Database;
using Storage::PolicyVersionStore;

class TestPolicyVersionStore final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void addedVersionReadsBack();
    void emptyStoreHasNoActiveVersion();
    void versionsAreNewestFirstAndPaginate();
    void setActiveMovesThePointer();
    void setActiveRefusesUnknownId();
    void addAndActivateDoesBoth();
    void addAndActivateIsAllOrNothing();
    void everythingSurvivesReopening();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Database> m_db;
    std::unique_ptr<PolicyVersionStore> m_store;
};

void TestPolicyVersionStore::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    auto db = Database::open(Database::defaultPath(m_dir->path()));
    QVERIFY2(db, db ? "" : qPrintable(db.error()));
    m_db = std::move(db).value();
    m_store = std::make_unique<PolicyVersionStore>(*m_db);
}

void TestPolicyVersionStore::cleanup()
{
    m_store.reset();
    m_db.reset();
}

void TestPolicyVersionStore::addedVersionReadsBack()
{
    const qint64 before = QDateTime::currentMSecsSinceEpoch();
    const QByteArray document = QByteArray("routes:\n  - name: chat\n") + QByteArray(1, '\0') + "binary tail";
    auto id = m_store->addVersion(document, "sha256:abc", QStringLiteral("alice"), QStringLiteral("first policy"));
    QVERIFY2(id, id ? "" : qPrintable(id.error()));
    QVERIFY(*id > 0);

    const auto version = m_store->version(*id);
    QVERIFY(version);
    QCOMPARE(version->id, *id);
    QCOMPARE(version->document, document);
    QCOMPARE(version->contentHash, QByteArray("sha256:abc"));
    QCOMPARE(version->author, QStringLiteral("alice"));
    QCOMPARE(version->comment, QStringLiteral("first policy"));
    QVERIFY(version->createdAtMs >= before);

    // Adding does not activate.
    QVERIFY(!m_store->activeVersionId());
    QVERIFY(!m_store->version(*id + 1));
}

void TestPolicyVersionStore::emptyStoreHasNoActiveVersion()
{
    QVERIFY(!m_store->activeVersionId());
    QVERIFY(!m_store->activeVersion());
    QVERIFY(m_store->versions(10).isEmpty());
    // An empty comment is a valid comment, not a NULL.
    QVERIFY(m_store->addVersion("doc", "h", QString(), QString()));
}

void TestPolicyVersionStore::versionsAreNewestFirstAndPaginate()
{
    QList<qint64> ids;
    for (int i = 0; i < 7; ++i) {
        auto id = m_store->addVersion(QByteArray::number(i), "h", QStringLiteral("bob"), QString::number(i));
        QVERIFY(id);
        ids.append(*id);
    }
    QList<qint64> seen;
    qint64 before = 0;
    for (;;) {
        const auto page = m_store->versions(3, before);
        if (page.isEmpty()) {
            break;
        }
        QVERIFY(page.size() <= 3);
        for (const auto &version : page) {
            seen.append(version.id);
        }
        before = page.constLast().id;
    }
    QList<qint64> newestFirst = ids;
    std::reverse(newestFirst.begin(), newestFirst.end());
    QCOMPARE(seen, newestFirst);
    QCOMPARE(m_store->versions(100).constFirst().document, QByteArray("6"));
    QCOMPARE(m_store->versions(0).size(), 1); // clamped up to one
}

void TestPolicyVersionStore::setActiveMovesThePointer()
{
    auto first = m_store->addVersion("one", "h1", QStringLiteral("a"), QString());
    auto second = m_store->addVersion("two", "h2", QStringLiteral("a"), QString());
    QVERIFY(first && second);
    QVERIFY(m_store->setActive(*second));
    QCOMPARE(m_store->activeVersionId(), std::optional<qint64> {*second});
    // Rolling back is activating an older version; history stays complete.
    QVERIFY(m_store->setActive(*first));
    QCOMPARE(m_store->activeVersionId(), std::optional<qint64> {*first});
    QCOMPARE(m_store->activeVersion()->document, QByteArray("one"));
    QCOMPARE(m_store->versions(10).size(), 2);
}

void TestPolicyVersionStore::setActiveRefusesUnknownId()
{
    auto id = m_store->addVersion("one", "h1", QStringLiteral("a"), QString());
    QVERIFY(id);
    QVERIFY(m_store->setActive(*id));
    auto refused = m_store->setActive(*id + 100);
    QVERIFY(!refused);
    QVERIFY2(refused.error().contains(QString::number(*id + 100)), qPrintable(refused.error()));
    QCOMPARE(m_store->activeVersionId(), std::optional<qint64> {*id});
}

void TestPolicyVersionStore::addAndActivateDoesBoth()
{
    auto first = m_store->addAndActivate("one", "h1", QStringLiteral("a"), QStringLiteral("c1"));
    QVERIFY(first);
    QCOMPARE(m_store->activeVersionId(), std::optional<qint64> {*first});
    auto second = m_store->addAndActivate("two", "h2", QStringLiteral("a"), QStringLiteral("c2"));
    QVERIFY(second);
    QVERIFY(*second > *first);
    const auto active = m_store->activeVersion();
    QVERIFY(active);
    QCOMPARE(active->id, *second);
    QCOMPARE(active->document, QByteArray("two"));
    QCOMPARE(active->comment, QStringLiteral("c2"));
}

void TestPolicyVersionStore::addAndActivateIsAllOrNothing()
{
    auto first = m_store->addAndActivate("one", "h1", QStringLiteral("a"), QString());
    QVERIFY(first);
    // Make the second half (moving the pointer) fail after the first half succeeded.
    QVERIFY(m_db->execute(QStringLiteral("CREATE TEMP TRIGGER refuse_activation BEFORE UPDATE ON main.active_policy"
                                         " BEGIN SELECT RAISE(ABORT, 'activation refused'); END")));
    auto failed = m_store->addAndActivate("two", "h2", QStringLiteral("a"), QString());
    QVERIFY(!failed);
    QVERIFY2(failed.error().contains(QLatin1String("activation refused")), qPrintable(failed.error()));

    // Neither change is visible: no orphan version, pointer unchanged.
    QCOMPARE(m_store->versions(10).size(), 1);
    QCOMPARE(m_store->activeVersionId(), std::optional<qint64> {*first});

    // And the connection is usable again (no transaction left open).
    QVERIFY(m_db->execute(QStringLiteral("DROP TRIGGER refuse_activation")));
    QVERIFY(m_store->addAndActivate("three", "h3", QStringLiteral("a"), QString()));
    QCOMPARE(m_store->activeVersion()->document, QByteArray("three"));
}

void TestPolicyVersionStore::everythingSurvivesReopening()
{
    auto id = m_store->addAndActivate("kept", "hk", QStringLiteral("carol"), QStringLiteral("persist"));
    QVERIFY(id);
    m_store.reset();
    m_db.reset();

    auto db = Database::open(Database::defaultPath(m_dir->path()));
    QVERIFY(db);
    m_db = std::move(db).value();
    m_store = std::make_unique<PolicyVersionStore>(*m_db);
    const auto active = m_store->activeVersion();
    QVERIFY(active);
    QCOMPARE(active->id, *id);
    QCOMPARE(active->document, QByteArray("kept"));
    QCOMPARE(active->author, QStringLiteral("carol"));
}

QTEST_GUILESS_MAIN(TestPolicyVersionStore)
#include "testpolicyversionstore.moc"
