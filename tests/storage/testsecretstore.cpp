// Named secrets: sealed in the table, never in plaintext anywhere in the files.

#include "database.h"
#include "secretbox.h"
#include "secretstore.h"

#include <QFile>
#include <QRegularExpression>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using Storage::Database;
using Storage::SecretBox;
using Storage::SecretStore;

namespace {

const QByteArray SECRET = "sk-live-very-secret-123";

QByteArray fileBytes(const QString &path)
{
    QFile file {path};
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    return file.readAll();
}

} // namespace

class TestSecretStore final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void putGetRemove();
    void putReplaces();
    void namesAreSorted();
    void onlySealedBytesAreStored();
    void sealedValueMovedToAnotherNameDoesNotOpen();
    void secretsSurviveReopeningWithTheKeyFile();
    void databaseAndWalFilesNeverHoldThePlaintext();

private:
    QString dbPath() const { return Database::defaultPath(m_dir->path()); }
    void openStore();
    void closeStore();

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<SecretBox> m_box;
    std::unique_ptr<Database> m_db;
    std::unique_ptr<SecretStore> m_store;
};

void TestSecretStore::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    openStore();
}

void TestSecretStore::cleanup()
{
    closeStore();
}

void TestSecretStore::openStore()
{
    auto box = SecretBox::fromKeyFile(SecretBox::defaultKeyPath(m_dir->path()));
    QVERIFY2(box, box ? "" : qPrintable(box.error()));
    m_box = std::move(box).value();
    auto db = Database::open(dbPath());
    QVERIFY2(db, db ? "" : qPrintable(db.error()));
    m_db = std::move(db).value();
    m_store = std::make_unique<SecretStore>(*m_db, *m_box);
}

void TestSecretStore::closeStore()
{
    m_store.reset();
    m_db.reset();
    m_box.reset();
}

void TestSecretStore::putGetRemove()
{
    QVERIFY(!m_store->get(QStringLiteral("openai")));
    QVERIFY(m_store->put(QStringLiteral("openai"), SECRET));
    QCOMPARE(m_store->get(QStringLiteral("openai")), std::optional<QByteArray> {SECRET});

    auto removed = m_store->remove(QStringLiteral("openai"));
    QVERIFY(removed);
    QVERIFY(*removed);
    QVERIFY(!m_store->get(QStringLiteral("openai")));
    auto again = m_store->remove(QStringLiteral("openai"));
    QVERIFY(again);
    QVERIFY(!*again);

    QVERIFY(!m_store->put(QString(), SECRET));
    // An empty secret is a value, distinct from no secret.
    QVERIFY(m_store->put(QStringLiteral("empty"), QByteArray()));
    QCOMPARE(m_store->get(QStringLiteral("empty")), std::optional<QByteArray> {QByteArray()});
}

void TestSecretStore::putReplaces()
{
    QVERIFY(m_store->put(QStringLiteral("openai"), "old"));
    QVERIFY(m_store->put(QStringLiteral("openai"), "new"));
    QCOMPARE(m_store->get(QStringLiteral("openai")), std::optional<QByteArray> {QByteArray("new")});
    QCOMPARE(m_store->names(), QStringList {QStringLiteral("openai")});
}

void TestSecretStore::namesAreSorted()
{
    QVERIFY(m_store->put(QStringLiteral("openai"), "1"));
    QVERIFY(m_store->put(QStringLiteral("anthropic"), "2"));
    QVERIFY(m_store->put(QStringLiteral("mistral"), "3"));
    QCOMPARE(m_store->names(),
             (QStringList {QStringLiteral("anthropic"), QStringLiteral("mistral"), QStringLiteral("openai")}));
}

void TestSecretStore::onlySealedBytesAreStored()
{
    QVERIFY(m_store->put(QStringLiteral("openai"), SECRET));
    QSqlQuery query {m_db->connection()};
    QVERIFY(query.exec(QStringLiteral("SELECT sealed FROM secrets WHERE name = 'openai'")));
    QVERIFY(query.next());
    const QByteArray sealed = query.value(0).toByteArray();
    QCOMPARE(sealed.size(), SECRET.size() + SecretBox::OVERHEAD);
    QVERIFY(!sealed.contains(SECRET));
    QCOMPARE(*m_box->open(sealed, "openai"), SECRET);
}

void TestSecretStore::sealedValueMovedToAnotherNameDoesNotOpen()
{
    QVERIFY(m_store->put(QStringLiteral("openai"), SECRET));
    QVERIFY(m_store->put(QStringLiteral("anthropic"), "other"));
    QVERIFY(m_db->execute(QStringLiteral(
        "UPDATE secrets SET sealed = (SELECT sealed FROM secrets WHERE name = 'openai') WHERE name = 'anthropic'")));
    QTest::ignoreMessage(QtWarningMsg, "secret \"anthropic\" cannot be decrypted: "
                                       "\"sealed secret failed authentication (modified, or sealed with another key)\"");
    QVERIFY(!m_store->get(QStringLiteral("anthropic")));
    QCOMPARE(m_store->get(QStringLiteral("openai")), std::optional<QByteArray> {SECRET});
}

void TestSecretStore::secretsSurviveReopeningWithTheKeyFile()
{
    QVERIFY(m_store->put(QStringLiteral("openai"), SECRET));
    closeStore();
    openStore();
    QCOMPARE(m_store->get(QStringLiteral("openai")), std::optional<QByteArray> {SECRET});

    // With a different key file the secret stays sealed.
    closeStore();
    QVERIFY(QFile::remove(SecretBox::defaultKeyPath(m_dir->path())));
    openStore();
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("^secret \"openai\" cannot be decrypted")));
    QVERIFY(!m_store->get(QStringLiteral("openai")));
}

void TestSecretStore::databaseAndWalFilesNeverHoldThePlaintext()
{
    QVERIFY(m_store->put(QStringLiteral("openai"), SECRET));
    QVERIFY(m_store->put(QStringLiteral("openai"), SECRET)); // a second image in the WAL

    // While open, the newest pages sit in the WAL.
    const QByteArray wal = fileBytes(dbPath() + QStringLiteral("-wal"));
    QVERIFY(!wal.isEmpty());
    QVERIFY(!wal.contains(SECRET));
    QVERIFY(!fileBytes(dbPath()).contains(SECRET));

    // After a checkpoint the pages are in the main file.
    QVERIFY(m_db->execute(QStringLiteral("PRAGMA wal_checkpoint(TRUNCATE)")));
    const QByteArray main = fileBytes(dbPath());
    QVERIFY(main.contains("openai")); // the file does hold the row
    QVERIFY(!main.contains(SECRET));
    closeStore();
    QVERIFY(!fileBytes(dbPath()).contains(SECRET));
    QVERIFY(!fileBytes(dbPath() + QStringLiteral("-wal")).contains(SECRET));
}

QTEST_GUILESS_MAIN(TestSecretStore)
#include "testsecretstore.moc"
