#pragma once

#include "config/configerror.h"
#include "config/policy.h"
#include "util/expected.h"

#include <QByteArray>
#include <QString>

#include <optional>

namespace Storage {

class Database;
class SecretBox;
class PolicyVersionStore;
class SecretStore;

// Policies as versions in the store. A stored version is the policy document (the same
// YAML as --config) in which every secret is replaced by a reference into the sealed
// secrets table ("vault:<id>") and every virtual key by its SHA-256, so neither the
// database nor an export ever holds a secret in plain text.
//
// Synchronous; runs on the thread that owns `db`.
class PolicyRepository final {
public:
    PolicyRepository(Database &db, const SecretBox &box);
    ~PolicyRepository();
    PolicyRepository(const PolicyRepository &) = delete;
    PolicyRepository &operator=(const PolicyRepository &) = delete;

    struct Saved {
        qint64 versionId = 0;
        bool created = false; // false: identical to the active version, nothing written
    };

    // Stores `policy` as a new active version, unless its content (secrets included)
    // equals the active version's.
    Gateway::Expected<Saved, QString> saveAndActivate(const Gateway::Config::Policy &policy, const QString &author,
                                                      const QString &comment);
    // Makes an existing version active again (a rollback); the history is kept.
    Gateway::Expected<bool, QString> activate(qint64 versionId);

    // A version with its secrets unsealed, ready to run.
    Gateway::Expected<Gateway::Config::Policy, QString> load(qint64 versionId) const;
    std::optional<qint64> activeVersionId() const;

    // Whether storing `policy` would change anything.
    bool differsFromActive(const Gateway::Config::Policy &policy) const;

    // Identity of a policy's content, secrets included (only digests of them).
    static QByteArray contentHash(const Gateway::Config::Policy &policy);

    PolicyVersionStore &versions() { return *m_versions; }

private:
    Gateway::Expected<QByteArray, QString> storableDocument(const Gateway::Config::Policy &policy);
    Gateway::Expected<QByteArray, QString> sealSecret(const QByteArray &plaintext);

    std::unique_ptr<PolicyVersionStore> m_versions;
    std::unique_ptr<SecretStore> m_secrets;
};

} // namespace Storage
