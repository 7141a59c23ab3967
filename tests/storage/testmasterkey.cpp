// Where the master key comes from: the OS keychain when a Secret Service runs (this suite
// is started by with-keyring.sh inside a private D-Bus session with gnome-keyring), a
// 0600 key file otherwise.

#include "masterkey.h"
#include "secretbox.h"

#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

class TestMasterKey final : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void keychainHoldsTheKeyWhenAServiceExists();
    void existingKeyFileWins();
    void keyFileWithoutASessionBus();
};

void TestMasterKey::initTestCase()
{
    // The wrapper guarantees a keyring; without it this suite must fail, not skip.
    QVERIFY2(qEnvironmentVariableIsSet("SWITCHYARD_TEST_KEYRING"), "run through tests/storage/with-keyring.sh");
    QVERIFY(qEnvironmentVariableIsSet("DBUS_SESSION_BUS_ADDRESS"));
}

void TestMasterKey::keychainHoldsTheKeyWhenAServiceExists()
{
    QTemporaryDir dir;
    auto first = Storage::openMasterKey(dir.path());
    QVERIFY2(first.hasValue(), first.hasValue() ? "" : qPrintable(first.error()));
    QCOMPARE(first->source, QStringLiteral("keychain"));
    QVERIFY(!QFileInfo::exists(Storage::SecretBox::defaultKeyPath(dir.path())));

    const QByteArray sealed = first->box->seal("sk-sealed-under-the-keychain-key");
    auto second = Storage::openMasterKey(dir.path());
    QVERIFY(second.hasValue());
    QCOMPARE(second->source, QStringLiteral("keychain"));
    const auto opened = second->box->open(sealed);
    QVERIFY(opened.hasValue());
    QCOMPARE(opened.value(), QByteArray("sk-sealed-under-the-keychain-key"));

    // Another data directory gets a key of its own.
    QTemporaryDir other;
    auto third = Storage::openMasterKey(other.path());
    QVERIFY(third.hasValue());
    QVERIFY(!third->box->open(sealed).hasValue());
}

void TestMasterKey::existingKeyFileWins()
{
    QTemporaryDir dir;
    QVERIFY(Storage::SecretBox::fromKeyFile(Storage::SecretBox::defaultKeyPath(dir.path())).hasValue());
    auto key = Storage::openMasterKey(dir.path());
    QVERIFY(key.hasValue());
    QCOMPARE(key->source, Storage::SecretBox::defaultKeyPath(dir.path()));
}

void TestMasterKey::keyFileWithoutASessionBus()
{
    const QByteArray bus = qgetenv("DBUS_SESSION_BUS_ADDRESS");
    qunsetenv("DBUS_SESSION_BUS_ADDRESS");
    QTemporaryDir dir;
    auto key = Storage::openMasterKey(dir.path());
    qputenv("DBUS_SESSION_BUS_ADDRESS", bus);
    QVERIFY(key.hasValue());
    const QString path = Storage::SecretBox::defaultKeyPath(dir.path());
    QCOMPARE(key->source, path);
    QCOMPARE(QFile::permissions(path) & ~(QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadUser |
                                          QFileDevice::WriteUser),
             QFileDevice::Permissions {});
}

QTEST_GUILESS_MAIN(TestMasterKey)
#include "testmasterkey.moc"
