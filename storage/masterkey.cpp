#include "masterkey.h"

#include "secretbox.h"

#include <QCryptographicHash>
#include <QDir>
#include <QEventLoop>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QTimer>

#include <qt6keychain/keychain.h>

namespace Storage {

namespace {

constexpr const char *KEYCHAIN_SERVICE = "switchyard";
// A keychain that does not answer within this long is treated as absent.
constexpr int KEYCHAIN_TIMEOUT_MS = 5000;

// One key per data directory, so two stores on one account never share a key.
QString keychainEntry(const QString &dataDirectory)
{
    const QByteArray path = QDir(dataDirectory).canonicalPath().toUtf8();
    return QStringLiteral("master-key-") +
           QString::fromLatin1(QCryptographicHash::hash(path, QCryptographicHash::Sha256).toHex().left(16));
}

// Runs a keychain job to its end; false if it did not finish in time.
bool runJob(QKeychain::Job &job)
{
    QEventLoop loop;
    QTimer timeout;
    timeout.setSingleShot(true);
    QObject::connect(&job, &QKeychain::Job::finished, &loop, &QEventLoop::quit);
    QObject::connect(&timeout, &QTimer::timeout, &loop, &QEventLoop::quit);
    bool finished = false;
    QObject::connect(&job, &QKeychain::Job::finished, &loop, [&finished] { finished = true; });
    job.setAutoDelete(false);
    timeout.start(KEYCHAIN_TIMEOUT_MS);
    job.start();
    if (!finished) {
        loop.exec();
    }
    return finished;
}

// The key from the keychain, a new key stored there, or nothing if no keychain works.
std::optional<QByteArray> keyFromKeychain(const QString &dataDirectory)
{
    // Without a session bus QtKeychain has no service to talk to, and trying could start
    // D-Bus autolaunch; headless servers and CI take the key-file path at once.
    if (!qEnvironmentVariableIsSet("DBUS_SESSION_BUS_ADDRESS")) {
        return std::nullopt;
    }
    const QString entry = keychainEntry(dataDirectory);
    QKeychain::ReadPasswordJob read {QLatin1String(KEYCHAIN_SERVICE)};
    read.setKey(entry);
    read.setInsecureFallback(false);
    if (!runJob(read)) {
        return std::nullopt;
    }
    if (read.error() == QKeychain::NoError && read.binaryData().size() == SecretBox::KEY_SIZE) {
        return read.binaryData();
    }
    if (read.error() != QKeychain::EntryNotFound) {
        return std::nullopt;
    }
    QByteArray key(SecretBox::KEY_SIZE, Qt::Uninitialized);
    QRandomGenerator::system()->generate(reinterpret_cast<quint32 *>(key.data()),
                                         reinterpret_cast<quint32 *>(key.data() + key.size()));
    QKeychain::WritePasswordJob write {QLatin1String(KEYCHAIN_SERVICE)};
    write.setKey(entry);
    write.setInsecureFallback(false);
    write.setBinaryData(key);
    if (!runJob(write) || write.error() != QKeychain::NoError) {
        return std::nullopt;
    }
    return key;
}

} // namespace

Gateway::Expected<MasterKey, QString> openMasterKey(const QString &dataDirectory)
{
    const QString keyFile = SecretBox::defaultKeyPath(dataDirectory);
    if (!QFileInfo::exists(keyFile)) {
        if (auto key = keyFromKeychain(dataDirectory)) {
            auto box = SecretBox::fromKey(*key);
            if (!box) {
                return Gateway::Unexpected {box.error()};
            }
            return MasterKey {std::move(box).value(), QStringLiteral("keychain")};
        }
    }
    auto box = SecretBox::fromKeyFile(keyFile);
    if (!box) {
        return Gateway::Unexpected {box.error()};
    }
    return MasterKey {std::move(box).value(), keyFile};
}

} // namespace Storage
