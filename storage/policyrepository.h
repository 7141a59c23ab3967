#pragma once

#include "auditlog.h"
#include "config/configerror.h"
#include "config/policy.h"
#include "util/expected.h"

#include <QByteArray>
#include <QString>

#include <memory>
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
// Every change (a new active version, a rollback) appends one row to the audit log in
// the same transaction: who, what, and the unified diff of the redacted documents, so
// the log never holds a secret and no change commits unaudited.
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
    // equals the active version's (then nothing is written or audited). The audit row
    // has actor `author`, the given action and subject (empty: "policy version <id>").
    Gateway::Expected<Saved, QString> saveAndActivate(const Gateway::Config::Policy &policy, const QString &author,
                                                      const QString &comment,
                                                      const QString &action = AuditAction::POLICY_APPLY,
                                                      const QString &subject = {});
    // Makes an existing version active again (a rollback); the history is kept. Audited
    // as policy.rollback by `actor`.
    Gateway::Expected<bool, QString> activate(qint64 versionId, const QString &actor, const QString &comment);

    // A version with its secrets unsealed, ready to run.
    Gateway::Expected<Gateway::Config::Policy, QString> load(qint64 versionId) const;
    std::optional<qint64> activeVersionId() const;

    // Whether storing `policy` would change anything.
    bool differsFromActive(const Gateway::Config::Policy &policy) const;

    // Identity of a policy's content, secrets included (only digests of them).
    static QByteArray contentHash(const Gateway::Config::Policy &policy);

    PolicyVersionStore &versions() { return *m_versions; }
    AuditLog &audit() { return *m_audit; }

private:
    // The version's document as exports show it (secrets "***"), the text audit diffs
    // compare; empty for no version.
    Gateway::Expected<QByteArray, QString> redactedDocument(std::optional<qint64> versionId) const;
    // The audit row for a change from `previousId` to `versionId`.
    Gateway::Expected<bool, QString> appendAudit(AuditEntry entry, const QString &comment,
                                                 std::optional<qint64> previousId, qint64 versionId,
                                                 const Gateway::Expected<QByteArray, QString> &before,
                                                 const Gateway::Expected<QByteArray, QString> &after);
    Gateway::Expected<QByteArray, QString> storableDocument(const Gateway::Config::Policy &policy);
    Gateway::Expected<QByteArray, QString> sealSecret(const QByteArray &plaintext);

    std::unique_ptr<PolicyVersionStore> m_versions;
    std::unique_ptr<SecretStore> m_secrets;
    std::unique_ptr<AuditLog> m_audit;
};

} // namespace Storage
