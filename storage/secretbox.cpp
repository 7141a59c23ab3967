#include "secretbox.h"

#include <QDir>
#include <QFile>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace Storage {

namespace {

struct CipherContextDeleter {
    void operator()(EVP_CIPHER_CTX *context) const { EVP_CIPHER_CTX_free(context); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextDeleter>;

// Closes a POSIX descriptor on every path out of a function.
class FileDescriptor final {
public:
    explicit FileDescriptor(int fd) : m_fd {fd} {}
    ~FileDescriptor()
    {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    Q_DISABLE_COPY_MOVE(FileDescriptor)
    int get() const { return m_fd; }
    bool valid() const { return m_fd >= 0; }
    // Returns close()'s result so a failed flush of written data is noticed.
    int close()
    {
        const int result = ::close(m_fd);
        m_fd = -1;
        return result;
    }

private:
    int m_fd;
};

const unsigned char *bytes(const char *data)
{
    return reinterpret_cast<const unsigned char *>(data);
}

unsigned char *bytes(char *data)
{
    return reinterpret_cast<unsigned char *>(data);
}

QString systemError(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

QString octalMode(mode_t mode)
{
    return QStringLiteral("%1").arg(mode & 0777, 4, 8, QLatin1Char('0'));
}

// *openError receives errno of the open() call (0 when it succeeded), so the caller can
// tell "exists already" from real failures.
Gateway::Expected<QByteArray, QString> createKeyFile(const QString &path, const QByteArray &encodedPath, int *openError)
{
    *openError = 0;
    QByteArray key(SecretBox::KEY_SIZE, Qt::Uninitialized);
    if (RAND_bytes(bytes(key.data()), int(key.size())) != 1) {
        return Gateway::Unexpected {QStringLiteral("cannot create key file %1: the random generator failed").arg(path)};
    }
    // O_EXCL: never truncate a key file that appeared meanwhile; O_NOFOLLOW: never write
    // through a planted symlink. The mode is set at creation, so the file is owner-only
    // from its first instant (the umask can only remove bits).
    FileDescriptor fd {::open(encodedPath.constData(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)};
    if (!fd.valid()) {
        const int error = errno;
        *openError = error;
        OPENSSL_cleanse(key.data(), std::size_t(key.size()));
        return Gateway::Unexpected {QStringLiteral("cannot create key file %1: %2").arg(path, systemError(error))};
    }
    qsizetype written = 0;
    while (written < key.size()) {
        const ssize_t n = ::write(fd.get(), key.constData() + written, std::size_t(key.size() - written));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const int error = errno;
            ::unlink(encodedPath.constData());
            OPENSSL_cleanse(key.data(), std::size_t(key.size()));
            return Gateway::Unexpected {QStringLiteral("cannot write key file %1: %2").arg(path, systemError(error))};
        }
        written += n;
    }
    // The key must reach the disk before any secret sealed with it does.
    if (::fsync(fd.get()) != 0 || fd.close() != 0) {
        const int error = errno;
        ::unlink(encodedPath.constData());
        OPENSSL_cleanse(key.data(), std::size_t(key.size()));
        return Gateway::Unexpected {QStringLiteral("cannot write key file %1: %2").arg(path, systemError(error))};
    }
    return key;
}

Gateway::Expected<QByteArray, QString> readKeyFile(const QString &path, const QByteArray &encodedPath, int *openError)
{
    *openError = 0;
    FileDescriptor fd {::open(encodedPath.constData(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)};
    if (!fd.valid()) {
        const int error = errno;
        *openError = error;
        return Gateway::Unexpected {QStringLiteral("cannot read key file %1: %2").arg(path, systemError(error))};
    }
    // fstat on the opened descriptor: the checked file is the file we read.
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) {
        const int error = errno;
        return Gateway::Unexpected {QStringLiteral("cannot inspect key file %1: %2").arg(path, systemError(error))};
    }
    if (!S_ISREG(info.st_mode)) {
        return Gateway::Unexpected {QStringLiteral("key file %1 is not a regular file").arg(path)};
    }
    if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        return Gateway::Unexpected {QStringLiteral(
            "key file %1 is accessible by group or others (mode %2); it protects every stored secret, "
            "so it must be private to its owner: run chmod 600 %1")
                                        .arg(path, octalMode(info.st_mode))};
    }
    if (info.st_size != SecretBox::KEY_SIZE) {
        return Gateway::Unexpected {QStringLiteral("key file %1 holds %2 bytes, expected %3")
                                        .arg(path).arg(qint64(info.st_size)).arg(SecretBox::KEY_SIZE)};
    }
    QByteArray key(SecretBox::KEY_SIZE, Qt::Uninitialized);
    qsizetype got = 0;
    while (got < key.size()) {
        const ssize_t n = ::read(fd.get(), key.data() + got, std::size_t(key.size() - got));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const int error = n < 0 ? errno : EIO;
            OPENSSL_cleanse(key.data(), std::size_t(key.size()));
            return Gateway::Unexpected {QStringLiteral("cannot read key file %1: %2").arg(path, systemError(error))};
        }
        got += n;
    }
    return key;
}

} // namespace

QString SecretBox::defaultKeyPath(const QString &dataDirectory)
{
    return QDir(dataDirectory).filePath(QLatin1String(KEY_FILE_NAME));
}

Gateway::Expected<std::unique_ptr<SecretBox>, QString> SecretBox::fromKeyFile(const QString &keyFilePath)
{
    const QByteArray encodedPath = QFile::encodeName(keyFilePath);
    int openError = 0;
    auto key = readKeyFile(keyFilePath, encodedPath, &openError);
    if (!key && openError == ENOENT) {
        key = createKeyFile(keyFilePath, encodedPath, &openError);
        if (!key && openError == EEXIST) {
            // Another process created it between our read and our create.
            key = readKeyFile(keyFilePath, encodedPath, &openError);
        }
    }
    if (!key) {
        return Gateway::Unexpected {key.error()};
    }
    return fromKey(std::move(key).value());
}

Gateway::Expected<std::unique_ptr<SecretBox>, QString> SecretBox::fromKey(QByteArray key)
{
    if (key.size() != KEY_SIZE) {
        const qsizetype size = key.size();
        OPENSSL_cleanse(key.data(), std::size_t(key.size()));
        return Gateway::Unexpected {QStringLiteral("a secret key must be %1 bytes, got %2").arg(KEY_SIZE).arg(size)};
    }
    return std::unique_ptr<SecretBox> {new SecretBox(std::move(key))};
}

SecretBox::SecretBox(QByteArray key)
    : m_key {std::move(key)}
{
    // Own an unshared copy so the wipe in the destructor reaches the only buffer.
    m_key.detach();
}

SecretBox::~SecretBox()
{
    OPENSSL_cleanse(m_key.data(), std::size_t(m_key.size()));
}

QByteArray SecretBox::seal(QByteArrayView plaintext, QByteArrayView associatedData) const
{
    if (plaintext.size() > MAX_PLAINTEXT || associatedData.size() > MAX_PLAINTEXT) {
        return {};
    }
    QByteArray sealed(NONCE_SIZE + plaintext.size() + TAG_SIZE, Qt::Uninitialized);
    unsigned char *nonce = bytes(sealed.data());
    unsigned char *ciphertext = nonce + NONCE_SIZE;
    unsigned char *tag = ciphertext + plaintext.size();
    if (RAND_bytes(nonce, int(NONCE_SIZE)) != 1) {
        return {};
    }

    const CipherContext context {EVP_CIPHER_CTX_new()};
    int length = 0;
    int finalLength = 0;
    const bool ok = context
        && EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1
        && EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_IVLEN, int(NONCE_SIZE), nullptr) == 1
        && EVP_EncryptInit_ex(context.get(), nullptr, nullptr, bytes(m_key.constData()), nonce) == 1
        && (associatedData.isEmpty()
            || EVP_EncryptUpdate(context.get(), nullptr, &length, bytes(associatedData.data()), int(associatedData.size())) == 1)
        // OpenSSL is not given a null input pointer for an empty secret.
        && (plaintext.isEmpty()
            || EVP_EncryptUpdate(context.get(), ciphertext, &length, bytes(plaintext.data()), int(plaintext.size())) == 1)
        && EVP_EncryptFinal_ex(context.get(), ciphertext + length, &finalLength) == 1
        && EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, int(TAG_SIZE), tag) == 1;
    if (!ok) {
        OPENSSL_cleanse(sealed.data(), std::size_t(sealed.size()));
        return {};
    }
    return sealed;
}

Gateway::Expected<QByteArray, QString> SecretBox::open(QByteArrayView sealed, QByteArrayView associatedData) const
{
    if (sealed.size() < OVERHEAD) {
        return Gateway::Unexpected {QStringLiteral("sealed secret is truncated (%1 bytes)").arg(sealed.size())};
    }
    if (sealed.size() - OVERHEAD > MAX_PLAINTEXT || associatedData.size() > MAX_PLAINTEXT) {
        return Gateway::Unexpected {QStringLiteral("sealed secret is too large (%1 bytes)").arg(sealed.size())};
    }
    const unsigned char *nonce = bytes(sealed.data());
    const unsigned char *ciphertext = nonce + NONCE_SIZE;
    const qsizetype ciphertextSize = sealed.size() - OVERHEAD;
    // EVP_CTRL_GCM_SET_TAG takes a non-const pointer; give it a copy.
    QByteArray tag(reinterpret_cast<const char *>(ciphertext + ciphertextSize), TAG_SIZE);

    // Zero-filled rather than uninitialised: the plaintext buffer of an empty secret must
    // still be a valid (non-null) array.
    QByteArray plaintext(ciphertextSize, '\0');
    const CipherContext context {EVP_CIPHER_CTX_new()};
    int length = 0;
    int finalLength = 0;
    const bool ok = context
        && EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1
        && EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_IVLEN, int(NONCE_SIZE), nullptr) == 1
        && EVP_DecryptInit_ex(context.get(), nullptr, nullptr, bytes(m_key.constData()), nonce) == 1
        && (associatedData.isEmpty()
            || EVP_DecryptUpdate(context.get(), nullptr, &length, bytes(associatedData.data()), int(associatedData.size())) == 1)
        && (ciphertextSize == 0
            || EVP_DecryptUpdate(context.get(), bytes(plaintext.data()), &length, ciphertext, int(ciphertextSize)) == 1)
        && EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, int(TAG_SIZE), tag.data()) == 1
        // Verifies the tag: fails on any modified byte of nonce, ciphertext, tag or
        // associated data.
        && EVP_DecryptFinal_ex(context.get(), bytes(plaintext.data()) + length, &finalLength) == 1;
    if (!ok) {
        OPENSSL_cleanse(plaintext.data(), std::size_t(plaintext.size()));
        return Gateway::Unexpected {QStringLiteral("sealed secret failed authentication (modified, or sealed with another key)")};
    }
    return plaintext;
}

} // namespace Storage
