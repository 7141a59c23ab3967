// Policies through the store and back: YAML -> store -> YAML is lossless, secrets are
// sealed, unchanged content creates no version.

#include "database.h"
#include "policyrepository.h"
#include "policyversionstore.h"
#include "secretbox.h"

#include "config/policyloader.h"
#include "config/policywriter.h"

#include <QCryptographicHash>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using Gateway::Config::Policy;
using Gateway::Config::SecretRendering;

namespace {

Policy completePolicy()
{
    QFile file {QStringLiteral(CONFIG_TEST_DATA_DIR "/policy-complete.yaml")};
    file.open(QIODevice::ReadOnly);
    const auto environment = [](const QString &name) -> std::optional<QByteArray> {
        return "value-of-" + name.toUtf8() + "-0123456789";
    };
    auto policy = Gateway::Config::parsePolicy(file.readAll(), QStringLiteral("policy-complete.yaml"), environment);
    return policy ? policy.value() : Policy {};
}

// What the store is expected to give back: virtual keys only as digests.
Policy withHashedKeys(Policy policy)
{
    for (auto &key : policy.virtualKeys) {
        if (!key.key.isEmpty()) {
            key.keySha256 = QCryptographicHash::hash(key.key, QCryptographicHash::Sha256).toHex();
            key.key.clear();
        }
    }
    return policy;
}

} // namespace

class TestPolicyRepository final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void yamlStoreYamlRoundTripIsLossless();
    void unchangedContentCreatesNoVersion();
    void changingOnlyASecretCreatesAVersion();
    void storedDocumentHoldsNoSecret();
    void mcpServerHeadersAreSealed();
    void rollbackRestoresAnOlderVersion();
    void tracingHeadersAreSealed();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Storage::SecretBox> m_box;
    std::unique_ptr<Storage::Database> m_db;
    std::unique_ptr<Storage::PolicyRepository> m_repository;
};

void TestPolicyRepository::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    auto box = Storage::SecretBox::fromKeyFile(Storage::SecretBox::defaultKeyPath(m_dir->path()));
    QVERIFY(box.hasValue());
    m_box = std::move(box).value();
    auto db = Storage::Database::open(Storage::Database::defaultPath(m_dir->path()));
    QVERIFY(db.hasValue());
    m_db = std::move(db).value();
    m_repository = std::make_unique<Storage::PolicyRepository>(*m_db, *m_box);
    QVERIFY(!completePolicy().providers.empty());
}

void TestPolicyRepository::cleanup()
{
    m_repository.reset();
    m_db.reset();
    m_box.reset();
    m_dir.reset();
}

void TestPolicyRepository::yamlStoreYamlRoundTripIsLossless()
{
    const Policy original = completePolicy();
    auto saved = m_repository->saveAndActivate(original, QStringLiteral("test"), QStringLiteral("first"));
    QVERIFY(saved.hasValue());
    QVERIFY(saved->created);
    auto loaded = m_repository->load(saved->versionId);
    QVERIFY2(loaded.hasValue(), loaded.hasValue() ? "" : qPrintable(loaded.error()));
    QCOMPARE(Gateway::Config::toYaml(loaded.value(), SecretRendering::Included),
             Gateway::Config::toYaml(withHashedKeys(original), SecretRendering::Included));
    QVERIFY(loaded.value() == withHashedKeys(original));
}

void TestPolicyRepository::unchangedContentCreatesNoVersion()
{
    const Policy original = completePolicy();
    const auto first = m_repository->saveAndActivate(original, QStringLiteral("a"), QStringLiteral("1"));
    const auto second = m_repository->saveAndActivate(original, QStringLiteral("b"), QStringLiteral("2"));
    QVERIFY(first.hasValue() && second.hasValue());
    QCOMPARE(second->created, false);
    QCOMPARE(second->versionId, first->versionId);
    // The loaded form (keys as digests) is the same content too.
    const auto third = m_repository->saveAndActivate(m_repository->load(first->versionId).value(), QStringLiteral("c"),
                                                     QStringLiteral("3"));
    QCOMPARE(third->created, false);
    QCOMPARE(m_repository->versions().versions(10).size(), 1);
}

void TestPolicyRepository::changingOnlyASecretCreatesAVersion()
{
    Policy policy = completePolicy();
    QVERIFY(m_repository->saveAndActivate(policy, QStringLiteral("a"), QStringLiteral("1")).hasValue());
    for (auto &provider : policy.providers) {
        if (!provider.keys.empty()) {
            provider.keys.front().secret = "rotated-secret-value-000";
            break;
        }
    }
    const auto saved = m_repository->saveAndActivate(policy, QStringLiteral("a"), QStringLiteral("rotate"));
    QVERIFY(saved.hasValue());
    QCOMPARE(saved->created, true);
    QCOMPARE(m_repository->load(saved->versionId).value(), withHashedKeys(policy));
}

void TestPolicyRepository::storedDocumentHoldsNoSecret()
{
    const Policy original = completePolicy();
    const auto saved = m_repository->saveAndActivate(original, QStringLiteral("a"), QStringLiteral("1"));
    const auto version = m_repository->versions().version(saved->versionId);
    QVERIFY(version.has_value());
    for (const auto &provider : original.providers) {
        for (const auto &key : provider.keys) {
            if (!key.secret.isEmpty()) {
                QVERIFY2(!version->document.contains(key.secret), key.secret.constData());
            }
        }
    }
    for (const auto &key : original.virtualKeys) {
        if (!key.key.isEmpty()) {
            QVERIFY(!version->document.contains(key.key));
        }
    }
    QVERIFY(!version->document.contains(original.gateway.adminToken));
    QVERIFY(version->document.contains("vault:"));
}

void TestPolicyRepository::mcpServerHeadersAreSealed()
{
    Policy policy = completePolicy();
    Gateway::Config::McpServer server;
    server.name = QStringLiteral("files");
    server.urls = {"http://127.0.0.1:9001/mcp"};
    server.headers = {{"Authorization", "Bearer mcp-header-secret-0001"}, {"X-Empty", ""}};
    policy.mcpServers.push_back(server);
    const auto saved = m_repository->saveAndActivate(policy, QStringLiteral("a"), QStringLiteral("mcp"));
    QVERIFY(saved.hasValue());
    const auto version = m_repository->versions().version(saved->versionId);
    QVERIFY(version.has_value());
    QVERIFY(!version->document.contains("mcp-header-secret-0001"));
    QCOMPARE(m_repository->load(saved->versionId).value(), withHashedKeys(policy));
    // Rotating only the header's value is a change.
    policy.mcpServers.front().headers.front().second = "Bearer mcp-header-secret-0002";
    const auto rotated = m_repository->saveAndActivate(policy, QStringLiteral("a"), QStringLiteral("rotate"));
    QVERIFY(rotated.hasValue());
    QCOMPARE(rotated->created, true);
    QCOMPARE(m_repository->load(rotated->versionId).value(), withHashedKeys(policy));
}

void TestPolicyRepository::rollbackRestoresAnOlderVersion()
{
    Policy first = completePolicy();
    const auto v1 = m_repository->saveAndActivate(first, QStringLiteral("a"), QStringLiteral("1"));
    Policy second = first;
    second.routes.pop_back();
    const auto v2 = m_repository->saveAndActivate(second, QStringLiteral("a"), QStringLiteral("2"));
    QCOMPARE(m_repository->activeVersionId(), std::optional<qint64>(v2->versionId));
    QVERIFY(m_repository->activate(v1->versionId, QStringLiteral("a"), QStringLiteral("back")).hasValue());
    QCOMPARE(m_repository->activeVersionId(), std::optional<qint64>(v1->versionId));
    QCOMPARE(m_repository->load(*m_repository->activeVersionId()).value(), withHashedKeys(first));
    QVERIFY(!m_repository->activate(999, QStringLiteral("a"), QStringLiteral("none")).hasValue());
}

void TestPolicyRepository::tracingHeadersAreSealed()
{
    Policy original = completePolicy();
    Gateway::Config::TracingSettings tracing;
    tracing.otlpEndpoint = "http://127.0.0.1:4318/v1/traces";
    tracing.headers = {{"authorization", "Bearer collector-secret-0123456789"}, {"x-scope-orgid", "tenant-secret-0123"}};
    original.tracing = tracing;
    const auto saved = m_repository->saveAndActivate(original, QStringLiteral("a"), QStringLiteral("1"));
    QVERIFY(saved.hasValue());
    const auto version = m_repository->versions().version(saved->versionId);
    QVERIFY(version.has_value());
    QVERIFY(!version->document.contains("collector-secret-0123456789"));
    QVERIFY(!version->document.contains("tenant-secret-0123"));
    QVERIFY(!version->contentHash.contains("collector-secret"));
    const auto loaded = m_repository->load(saved->versionId);
    QVERIFY2(loaded.hasValue(), loaded.hasValue() ? "" : qPrintable(loaded.error()));
    QVERIFY(loaded.value() == withHashedKeys(original));
    // A rotated collector token is a change of content.
    original.tracing->headers[0].second = "Bearer rotated-0123456789";
    const auto rotated = m_repository->saveAndActivate(original, QStringLiteral("a"), QStringLiteral("rotate"));
    QVERIFY(rotated.hasValue());
    QCOMPARE(rotated->created, true);
}

QTEST_APPLESS_MAIN(TestPolicyRepository)
#include "testpolicyrepository.moc"
