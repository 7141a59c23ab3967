#pragma once

#include "util/expected.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <memory>

namespace Storage {

// Authenticated encryption of small secrets (provider API keys) with AES-256-GCM
// (OpenSSL EVP; NIST SP 800-38D). Each seal() draws a fresh random 96-bit nonce; with
// random nonces SP 800-38D section 8.3 allows 2^32 seals per key, far beyond the number
// of secrets an operator ever stores.
//
// Sealed format: nonce (12 bytes) | ciphertext (same length as the plaintext) | tag (16).
//
// The 32-byte master key comes from the key file <dataDir>/secret.key: created with 32
// bytes from RAND_bytes through open(O_CREAT | O_EXCL, 0600), so it is never readable by
// anyone else, not even for an instant. An existing key file that group or others can
// read or write is refused, naming the path and the fix. Losing the key file makes every
// stored secret unreadable; back it up together with the database.
//
// Not done: the OS keychain (QtKeychain / Secret Service) as an alternative key source.
//
// Secrets and keys are never logged; error messages name paths and sizes only. The key
// is wiped from memory when the box is destroyed. seal() and open() are const and
// thread-safe.
class SecretBox final {
public:
    static constexpr qsizetype KEY_SIZE = 32;
    static constexpr qsizetype NONCE_SIZE = 12;
    static constexpr qsizetype TAG_SIZE = 16;
    static constexpr qsizetype OVERHEAD = NONCE_SIZE + TAG_SIZE;
    // Secrets are API keys and tokens; anything larger is a mistake, not a secret.
    static constexpr qsizetype MAX_PLAINTEXT = 64 * 1024;
    static constexpr const char *KEY_FILE_NAME = "secret.key";

    // <dataDir>/secret.key
    static QString defaultKeyPath(const QString &dataDirectory);

    // Reads the key file, or creates it (mode 0600, 32 random bytes) when it does not
    // exist. Fails when the file is accessible by group or others, is not a regular file,
    // does not hold exactly 32 bytes, or cannot be read or written.
    static Gateway::Expected<std::unique_ptr<SecretBox>, QString> fromKeyFile(const QString &keyFilePath);

    // A box over a key the caller already has (exactly KEY_SIZE bytes).
    static Gateway::Expected<std::unique_ptr<SecretBox>, QString> fromKey(QByteArray key);

    ~SecretBox();
    Q_DISABLE_COPY_MOVE(SecretBox)

    // Encrypts plaintext. associatedData is authenticated but not stored: open() must be
    // given the same bytes (the secret store passes the secret's name, so a sealed value
    // copied to another name does not open). Returns an empty array only if the plaintext
    // exceeds MAX_PLAINTEXT or OpenSSL fails, which callers treat as an error.
    QByteArray seal(QByteArrayView plaintext, QByteArrayView associatedData = {}) const;

    // Decrypts and verifies. Fails if the bytes were modified, truncated, sealed with
    // another key or with other associated data.
    Gateway::Expected<QByteArray, QString> open(QByteArrayView sealed, QByteArrayView associatedData = {}) const;

private:
    explicit SecretBox(QByteArray key);

    QByteArray m_key;
};

} // namespace Storage
