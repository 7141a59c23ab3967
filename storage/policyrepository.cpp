#include "policyrepository.h"

#include "policyversionstore.h"
#include "secretbox.h"
#include "secretstore.h"
#include "textdiff.h"

#include "config/policyloader.h"
#include "config/policywriter.h"

#include <QCryptographicHash>
#include <QJsonDocument>
#include <QJsonObject>
#include <QUuid>

namespace Storage {

namespace {

using Gateway::Config::Policy;

constexpr QByteArrayView VAULT_PREFIX = "vault:";

bool isVaultReference(const QByteArray &value)
{
    return value.startsWith(VAULT_PREFIX.toByteArray());
}

QByteArray sha256Hex(QByteArrayView bytes)
{
    return QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex();
}

// Virtual keys are kept only as digests from here on.
void hashVirtualKeys(Policy &policy)
{
    for (auto &key : policy.virtualKeys) {
        if (!key.key.isEmpty()) {
            key.keySha256 = sha256Hex(key.key);
            key.key.clear();
        }
    }
}

} // namespace

PolicyRepository::PolicyRepository(Database &db, const SecretBox &box)
    : m_versions {std::make_unique<PolicyVersionStore>(db)}
    , m_secrets {std::make_unique<SecretStore>(db, box)}
    , m_audit {std::make_unique<AuditLog>(db)}
{
}

PolicyRepository::~PolicyRepository() = default;

QByteArray PolicyRepository::contentHash(const Policy &policy)
{
    Policy canonical = policy;
    hashVirtualKeys(canonical);
    // Secrets enter only as digests, so the hash stored next to the document reveals
    // nothing usable.
    for (auto &provider : canonical.providers) {
        for (auto &key : provider.keys) {
            if (!key.secret.isEmpty()) {
                key.secret = "sha256:" + sha256Hex(key.secret);
            }
        }
    }
    if (!canonical.gateway.adminToken.isEmpty()) {
        canonical.gateway.adminToken = "sha256:" + sha256Hex(canonical.gateway.adminToken);
    }
    for (auto *headers : canonical.secretHeaderLists()) {
        for (auto &header : *headers) {
            if (!header.second.isEmpty()) {
                header.second = "sha256:" + sha256Hex(header.second);
            }
        }
    }
    return sha256Hex(Gateway::Config::toYaml(canonical, Gateway::Config::SecretRendering::Included));
}

Gateway::Expected<QByteArray, QString> PolicyRepository::sealSecret(const QByteArray &plaintext)
{
    // Reuse the reference of an identical stored secret, so saving an unchanged policy
    // does not grow the secrets table.
    for (const QString &name : m_secrets->names()) {
        const auto stored = m_secrets->get(name);
        if (stored && *stored == plaintext) {
            return name.toUtf8();
        }
    }
    const QByteArray name = VAULT_PREFIX.toByteArray() + QUuid::createUuid().toByteArray(QUuid::WithoutBraces);
    const auto put = m_secrets->put(QString::fromUtf8(name), plaintext);
    if (!put) {
        return Gateway::Unexpected {put.error()};
    }
    return name;
}

Gateway::Expected<QByteArray, QString> PolicyRepository::storableDocument(const Policy &policy)
{
    Policy storable = policy;
    hashVirtualKeys(storable);
    for (auto &provider : storable.providers) {
        for (auto &key : provider.keys) {
            if (!key.secret.isEmpty()) {
                auto reference = sealSecret(key.secret);
                if (!reference) {
                    return Gateway::Unexpected {reference.error()};
                }
                key.secret = reference.value();
            }
        }
    }
    if (!storable.gateway.adminToken.isEmpty()) {
        auto reference = sealSecret(storable.gateway.adminToken);
        if (!reference) {
            return Gateway::Unexpected {reference.error()};
        }
        storable.gateway.adminToken = reference.value();
    }
    // Collector and MCP server headers carry credentials: sealed like provider keys.
    for (auto *headers : storable.secretHeaderLists()) {
        for (auto &header : *headers) {
            if (!header.second.isEmpty()) {
                auto reference = sealSecret(header.second);
                if (!reference) {
                    return Gateway::Unexpected {reference.error()};
                }
                header.second = reference.value();
            }
        }
    }
    return Gateway::Config::toYaml(storable, Gateway::Config::SecretRendering::Included);
}

bool PolicyRepository::differsFromActive(const Policy &policy) const
{
    const auto active = m_versions->activeVersion();
    return !active || active->contentHash != contentHash(policy);
}

Gateway::Expected<QByteArray, QString> PolicyRepository::redactedDocument(std::optional<qint64> versionId) const
{
    if (!versionId) {
        return QByteArray {};
    }
    auto policy = load(*versionId);
    if (!policy) {
        return Gateway::Unexpected {policy.error()};
    }
    return Gateway::Config::toYaml(policy.value(), Gateway::Config::SecretRendering::Redacted);
}

Gateway::Expected<bool, QString> PolicyRepository::appendAudit(AuditEntry entry, const QString &comment,
                                                               std::optional<qint64> previousId, qint64 versionId,
                                                               const Gateway::Expected<QByteArray, QString> &before,
                                                               const Gateway::Expected<QByteArray, QString> &after)
{
    if (entry.subject.isEmpty()) {
        entry.subject = QStringLiteral("policy version %1").arg(versionId);
    }
    QJsonObject detail {{QStringLiteral("version"), versionId},
                        {QStringLiteral("previous_version"), previousId ? QJsonValue(*previousId) : QJsonValue()},
                        {QStringLiteral("comment"), comment}};
    // Both sides are redacted documents, so the diff shows "***" where a secret changed.
    // A side that cannot be read (a missing sealed secret) must not block the change;
    // the row then says why it has no diff.
    if (before && after) {
        const QByteArray beforeName =
            previousId ? QByteArray("version ").append(QByteArray::number(*previousId)) : QByteArray("(none)");
        detail.insert(QStringLiteral("diff"), QString::fromUtf8(unifiedDiff(before.value(), after.value(), beforeName,
                                                                            "version " + QByteArray::number(versionId))));
    } else {
        detail.insert(QStringLiteral("diff_unavailable"), !before ? before.error() : after.error());
    }
    entry.detail = QJsonDocument(detail).toJson(QJsonDocument::Compact);
    auto appended = m_audit->append(entry);
    if (!appended) {
        return Gateway::Unexpected {appended.error()};
    }
    return true;
}

Gateway::Expected<PolicyRepository::Saved, QString> PolicyRepository::saveAndActivate(const Policy &policy,
                                                                                      const QString &author,
                                                                                      const QString &comment,
                                                                                      const QString &action,
                                                                                      const QString &subject)
{
    const QByteArray hash = contentHash(policy);
    const auto active = m_versions->activeVersion();
    if (active && active->contentHash == hash) {
        return Saved {active->id, false};
    }
    // Secrets first: a crash before the version is written leaves only an unused sealed
    // secret behind, never a version pointing at a missing one.
    auto document = storableDocument(policy);
    if (!document) {
        return Gateway::Unexpected {document.error()};
    }
    // Rendered before the write lock is taken; only the diff is computed inside it.
    const std::optional<qint64> previousId = active ? std::optional<qint64>(active->id) : std::nullopt;
    const auto before = redactedDocument(previousId);
    const Gateway::Expected<QByteArray, QString> after =
        Gateway::Config::toYaml(policy, Gateway::Config::SecretRendering::Redacted);
    auto id = m_versions->addAndActivate(document.value(), hash, author, comment, [&](qint64 versionId) {
        return appendAudit({author, action, subject, {}}, comment, previousId, versionId, before, after);
    });
    if (!id) {
        return Gateway::Unexpected {id.error()};
    }
    return Saved {id.value(), true};
}

Gateway::Expected<bool, QString> PolicyRepository::activate(qint64 versionId, const QString &actor, const QString &comment)
{
    const std::optional<qint64> previousId = m_versions->activeVersionId();
    const auto before = redactedDocument(previousId);
    const auto after = redactedDocument(versionId);
    return m_versions->setActive(versionId, [&](qint64 id) {
        return appendAudit({actor, QString(AuditAction::POLICY_ROLLBACK), {}, {}}, comment, previousId, id, before, after);
    });
}

std::optional<qint64> PolicyRepository::activeVersionId() const
{
    return m_versions->activeVersionId();
}

Gateway::Expected<Policy, QString> PolicyRepository::load(qint64 versionId) const
{
    const auto version = m_versions->version(versionId);
    if (!version) {
        return Gateway::Unexpected {QStringLiteral("policy version %1 does not exist").arg(versionId)};
    }
    // Stored documents hold no ${VAR}; nothing may expand from this process's env.
    const auto noEnvironment = [](const QString &) -> std::optional<QByteArray> { return std::nullopt; };
    auto parsed = Gateway::Config::parsePolicy(version->document, QStringLiteral("policy version %1").arg(versionId),
                                               noEnvironment);
    if (!parsed) {
        return Gateway::Unexpected {parsed.error().toString()};
    }
    Policy policy = std::move(parsed).value();
    const auto unseal = [this](QByteArray &value) -> Gateway::Expected<bool, QString> {
        if (!isVaultReference(value)) {
            return true;
        }
        const auto secret = m_secrets->get(QString::fromUtf8(value));
        if (!secret) {
            return Gateway::Unexpected {QStringLiteral("secret %1 is missing or cannot be opened").arg(QString::fromUtf8(value))};
        }
        value = *secret;
        return true;
    };
    for (auto &provider : policy.providers) {
        for (auto &key : provider.keys) {
            if (auto result = unseal(key.secret); !result) {
                return Gateway::Unexpected {result.error()};
            }
        }
    }
    if (auto result = unseal(policy.gateway.adminToken); !result) {
        return Gateway::Unexpected {result.error()};
    }
    for (auto *headers : policy.secretHeaderLists()) {
        for (auto &header : *headers) {
            if (auto result = unseal(header.second); !result) {
                return Gateway::Unexpected {result.error()};
            }
        }
    }
    return policy;
}

} // namespace Storage
