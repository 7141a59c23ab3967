#pragma once

#include "util/expected.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringList>

#include <optional>

namespace Storage {

class Database;
class SecretBox;

// Named secrets (provider API keys) in the secrets table, sealed with a SecretBox.
//
// Only sealed bytes ever reach SQLite, so neither the database file, its WAL, free pages
// nor a backup hold a plaintext secret. The secret's name is bound into the seal as
// associated data: a sealed value copied under another name fails to open.
//
// Runs on the caller's Database (see Database for threading). Plaintexts are never
// logged; errors name the secret, not its value.
class SecretStore final {
public:
    SecretStore(Database &db, const SecretBox &box);

    // Inserts or replaces. The value is always true.
    Gateway::Expected<bool, QString> put(const QString &name, QByteArrayView plaintext);

    // The decrypted secret; nullopt when there is none by that name or it cannot be
    // decrypted (tampered, or sealed under another key file), which is logged by name.
    std::optional<QByteArray> get(const QString &name) const;

    // True when a secret was removed, false when there was none by that name.
    Gateway::Expected<bool, QString> remove(const QString &name);

    // Every stored name, sorted.
    QStringList names() const;

private:
    Database &m_db;
    const SecretBox &m_box;
};

} // namespace Storage
