// AES-256-GCM sealing and the key file's creation and permission rules.

#include "secretbox.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

using Storage::SecretBox;

namespace {

mode_t fileMode(const QString &path)
{
    struct stat info {};
    if (::stat(QFile::encodeName(path).constData(), &info) != 0) {
        return 07777;
    }
    return info.st_mode & 0777;
}

std::unique_ptr<SecretBox> boxWithKey(char fill)
{
    auto box = SecretBox::fromKey(QByteArray(SecretBox::KEY_SIZE, fill));
    return box ? std::move(box).value() : nullptr;
}

} // namespace

class TestSecretBox final : public QObject {
    Q_OBJECT

private slots:
    void init();

    void roundTrip_data();
    void roundTrip();
    void sealedLayout();
    void everyFlippedByteFails();
    void truncatedFails();
    void otherKeyFails();
    void otherAssociatedDataFails();
    void sealedBytesDoNotContainPlaintext();
    void keyMustBe32Bytes();
    void keyFileIsCreatedOwnerOnly();
    void keyFileIsReused();
    void groupOrWorldAccessibleKeyFileIsRefused_data();
    void groupOrWorldAccessibleKeyFileIsRefused();
    void wrongSizeKeyFileIsRefused();

private:
    QString keyPath() const { return SecretBox::defaultKeyPath(m_dir->path()); }

    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestSecretBox::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

void TestSecretBox::roundTrip_data()
{
    QTest::addColumn<QByteArray>("plaintext");
    QTest::newRow("api key") << QByteArray("sk-live-very-secret-123");
    QTest::newRow("empty") << QByteArray("");
    QTest::newRow("binary") << QByteArray::fromHex("00ff00ff10");
    QTest::newRow("largest") << QByteArray(SecretBox::MAX_PLAINTEXT, 'k');
}

void TestSecretBox::roundTrip()
{
    QFETCH(QByteArray, plaintext);
    const auto box = boxWithKey('a');
    QVERIFY(box);
    const QByteArray sealed = box->seal(plaintext, "name");
    QCOMPARE(sealed.size(), plaintext.size() + SecretBox::OVERHEAD);
    auto opened = box->open(sealed, "name");
    QVERIFY2(opened, opened ? "" : qPrintable(opened.error()));
    QCOMPARE(*opened, plaintext);
}

void TestSecretBox::sealedLayout()
{
    const auto box = boxWithKey('a');
    QVERIFY(box);
    const QByteArray first = box->seal("same");
    const QByteArray second = box->seal("same");
    // A fresh random nonce each time: equal secrets do not produce equal bytes.
    QVERIFY(first.left(SecretBox::NONCE_SIZE) != second.left(SecretBox::NONCE_SIZE));
    QVERIFY(first != second);
    QVERIFY(box->seal(QByteArray(SecretBox::MAX_PLAINTEXT + 1, 'x')).isEmpty());
}

void TestSecretBox::everyFlippedByteFails()
{
    const auto box = boxWithKey('a');
    QVERIFY(box);
    const QByteArray sealed = box->seal("sk-live-very-secret-123", "openai");
    for (qsizetype i = 0; i < sealed.size(); ++i) {
        QByteArray tampered = sealed;
        tampered[i] = char(tampered.at(i) ^ 0x01);
        QVERIFY2(!box->open(tampered, "openai"), qPrintable(QStringLiteral("byte %1").arg(i)));
    }
}

void TestSecretBox::truncatedFails()
{
    const auto box = boxWithKey('a');
    QVERIFY(box);
    const QByteArray sealed = box->seal("secret");
    QVERIFY(!box->open(sealed.left(sealed.size() - 1)));
    QVERIFY(!box->open(sealed.left(SecretBox::OVERHEAD - 1)));
    QVERIFY(!box->open(QByteArray()));
}

void TestSecretBox::otherKeyFails()
{
    const auto box = boxWithKey('a');
    const auto other = boxWithKey('b');
    QVERIFY(box && other);
    QVERIFY(!other->open(box->seal("secret")));
}

void TestSecretBox::otherAssociatedDataFails()
{
    const auto box = boxWithKey('a');
    QVERIFY(box);
    const QByteArray sealed = box->seal("secret", "openai");
    QVERIFY(!box->open(sealed, "anthropic"));
    QVERIFY(!box->open(sealed));
}

void TestSecretBox::sealedBytesDoNotContainPlaintext()
{
    const auto box = boxWithKey('a');
    QVERIFY(box);
    const QByteArray secret = "sk-live-very-secret-123";
    const QByteArray sealed = box->seal(secret);
    QVERIFY(!sealed.contains(secret));
    // Not even a recognisable fragment.
    QVERIFY(!sealed.contains("sk-live"));
    QVERIFY(!sealed.contains("secret"));
}

void TestSecretBox::keyMustBe32Bytes()
{
    QVERIFY(!SecretBox::fromKey(QByteArray(31, 'k')));
    QVERIFY(!SecretBox::fromKey(QByteArray(33, 'k')));
    QVERIFY(SecretBox::fromKey(QByteArray(32, 'k')));
}

void TestSecretBox::keyFileIsCreatedOwnerOnly()
{
    // Even with a permissive umask the file is created 0600: the mode is set by open(),
    // not fixed up afterwards.
    const mode_t previous = ::umask(0);
    auto box = SecretBox::fromKeyFile(keyPath());
    ::umask(previous);
    QVERIFY2(box, box ? "" : qPrintable(box.error()));
    QCOMPARE(fileMode(keyPath()), mode_t(0600));
    QCOMPARE(QFileInfo(keyPath()).size(), SecretBox::KEY_SIZE);
}

void TestSecretBox::keyFileIsReused()
{
    auto first = SecretBox::fromKeyFile(keyPath());
    QVERIFY(first);
    QFile file {keyPath()};
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray key = file.readAll();
    file.close();

    auto second = SecretBox::fromKeyFile(keyPath());
    QVERIFY(second);
    auto opened = (*second)->open((*first)->seal("kept"));
    QVERIFY(opened);
    QCOMPARE(*opened, QByteArray("kept"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), key); // not regenerated
}

void TestSecretBox::groupOrWorldAccessibleKeyFileIsRefused_data()
{
    QTest::addColumn<int>("mode");
    QTest::newRow("0644") << 0644;
    QTest::newRow("0640") << 0640;
    QTest::newRow("0604") << 0604;
    QTest::newRow("0620") << 0620;
}

void TestSecretBox::groupOrWorldAccessibleKeyFileIsRefused()
{
    QFETCH(int, mode);
    QVERIFY(SecretBox::fromKeyFile(keyPath()));
    QCOMPARE(::chmod(QFile::encodeName(keyPath()).constData(), mode_t(mode)), 0);
    auto box = SecretBox::fromKeyFile(keyPath());
    QVERIFY(!box);
    QVERIFY2(box.error().contains(keyPath()), qPrintable(box.error()));
    QVERIFY2(box.error().contains(QLatin1String("chmod 600")), qPrintable(box.error()));
    // Refused, not repaired behind the operator's back.
    QCOMPARE(fileMode(keyPath()), mode_t(mode));
}

void TestSecretBox::wrongSizeKeyFileIsRefused()
{
    QFile file {keyPath()};
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QByteArray(16, 'k'));
    file.close();
    QVERIFY(file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
    auto box = SecretBox::fromKeyFile(keyPath());
    QVERIFY(!box);
    QVERIFY2(box.error().contains(QLatin1String("16 bytes")), qPrintable(box.error()));
}

QTEST_APPLESS_MAIN(TestSecretBox)
#include "testsecretbox.moc"
