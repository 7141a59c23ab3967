#include "config/secretmerge.h"

#include <QTest>

using Gateway::Config::Policy;
using Gateway::Config::Provider;
using Gateway::Config::ProviderKey;
using Gateway::Config::resolveRedactedSecrets;
using Gateway::Config::VirtualKey;

namespace {

const QByteArray REDACTED = QByteArrayLiteral("***");

Provider provider(const QString &name, std::vector<ProviderKey> keys)
{
    Provider result;
    result.name = name;
    result.baseUrl = "https://example.test/v1";
    result.keys = std::move(keys);
    return result;
}

// What the store holds: plaintext provider secrets, virtual keys by digest.
Policy storedPolicy()
{
    Policy policy;
    policy.gateway.adminToken = "stored-admin-token";
    policy.providers.push_back(provider(QStringLiteral("openai"), {ProviderKey {QStringLiteral("primary"), "sk-primary", 500, 0},
                                                                   ProviderKey {QStringLiteral("backup"), "sk-backup", 0, 0}}));
    policy.providers.push_back(provider(QStringLiteral("claude"), {ProviderKey {QStringLiteral("primary"), "sk-ant", 0, 0}}));
    policy.virtualKeys.push_back(VirtualKey {QStringLiteral("team-a"), {}, QByteArray(64, 'a'), {}});
    policy.virtualKeys.push_back(VirtualKey {QStringLiteral("from-file"), "sy-file-plaintext", {}, {}});
    return policy;
}

// The same policy as a redacted GET shows it.
Policy redactedPolicy()
{
    Policy policy = storedPolicy();
    policy.gateway.adminToken = REDACTED;
    for (auto &entry : policy.providers) {
        for (auto &key : entry.keys) {
            key.secret = REDACTED;
        }
    }
    for (auto &key : policy.virtualKeys) {
        key.key = REDACTED;
        key.keySha256.clear();
    }
    return policy;
}

} // namespace

class TestSecretMerge final : public QObject {
    Q_OBJECT

private slots:
    void everyPlaceholderKeepsTheStoredValue() const
    {
        const auto resolved = resolveRedactedSecrets(redactedPolicy(), storedPolicy());
        QVERIFY2(resolved, qPrintable(resolved ? QString() : resolved.error().toString()));
        QVERIFY(resolved.value() == storedPolicy());
    }

    void newValuesReplaceStoredOnes() const
    {
        Policy incoming = redactedPolicy();
        incoming.gateway.adminToken = "new-admin-token";
        incoming.providers[0].keys[1].secret = "sk-rotated";
        incoming.virtualKeys[0].key = "sy-new-plaintext";
        const auto resolved = resolveRedactedSecrets(incoming, storedPolicy());
        QVERIFY(resolved);
        QCOMPARE(resolved->gateway.adminToken, QByteArrayLiteral("new-admin-token"));
        QCOMPARE(resolved->providers[0].keys[0].secret, QByteArrayLiteral("sk-primary"));
        QCOMPARE(resolved->providers[0].keys[1].secret, QByteArrayLiteral("sk-rotated"));
        QCOMPARE(resolved->virtualKeys[0].key, QByteArrayLiteral("sy-new-plaintext"));
        QVERIFY(resolved->virtualKeys[0].keySha256.isEmpty());
        QCOMPARE(resolved->virtualKeys[1].key, QByteArrayLiteral("sy-file-plaintext"));
    }

    void secretsFollowNamesNotPositions() const
    {
        Policy incoming = redactedPolicy();
        std::swap(incoming.providers[0], incoming.providers[1]);
        std::swap(incoming.providers[1].keys[0], incoming.providers[1].keys[1]);
        std::swap(incoming.virtualKeys[0], incoming.virtualKeys[1]);
        incoming.virtualKeys[1].routes = QStringList {QStringLiteral("chat")};
        const auto resolved = resolveRedactedSecrets(incoming, storedPolicy());
        QVERIFY(resolved);
        QCOMPARE(resolved->providers[0].keys[0].secret, QByteArrayLiteral("sk-ant"));
        QCOMPARE(resolved->providers[1].keys[0].secret, QByteArrayLiteral("sk-backup"));
        QCOMPARE(resolved->providers[1].keys[1].secret, QByteArrayLiteral("sk-primary"));
        QCOMPARE(resolved->virtualKeys[0].key, QByteArrayLiteral("sy-file-plaintext"));
        QCOMPARE(resolved->virtualKeys[1].keySha256, QByteArray(64, 'a'));
        QCOMPARE(resolved->virtualKeys[1].routes, QStringList {QStringLiteral("chat")});
    }

    void placeholderWithoutStoredValueIsAnError_data() const
    {
        QTest::addColumn<int>("change");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("message");
        QTest::newRow("renamed provider") << 0 << QStringLiteral("providers[1].keys[0].secret")
                                          << QStringLiteral("'***' means keep the stored secret, but no secret is "
                                                            "stored for provider 'anthropic' key 'primary'");
        QTest::newRow("new key name") << 1 << QStringLiteral("providers[0].keys[1].secret")
                                      << QStringLiteral("'***' means keep the stored secret, but no secret is stored "
                                                        "for provider 'openai' key 'spare'");
        QTest::newRow("no admin token") << 2 << QStringLiteral("gateway.admin_token")
                                        << QStringLiteral("'***' means keep the stored secret, but no secret is stored "
                                                          "for the admin token");
        QTest::newRow("new virtual key") << 3 << QStringLiteral("virtual_keys[2].key")
                                         << QStringLiteral("'***' means keep the stored secret, but no secret is "
                                                           "stored for virtual key 'team-new'");
    }

    void placeholderWithoutStoredValueIsAnError() const
    {
        QFETCH(int, change);
        QFETCH(QString, field);
        QFETCH(QString, message);
        Policy incoming = redactedPolicy();
        Policy stored = storedPolicy();
        switch (change) {
        case 0: incoming.providers[1].name = QStringLiteral("anthropic"); break;
        case 1: incoming.providers[0].keys[1].name = QStringLiteral("spare"); break;
        case 2: stored.gateway.adminToken.clear(); break;
        default: incoming.virtualKeys.push_back(VirtualKey {QStringLiteral("team-new"), REDACTED, {}, {}}); break;
        }
        const auto resolved = resolveRedactedSecrets(incoming, stored);
        QVERIFY(!resolved);
        QCOMPARE(resolved.error().field, field);
        QCOMPARE(resolved.error().message, message);
    }

    void resolvingAgainstNothingRejectsAnyPlaceholder() const
    {
        QVERIFY(!resolveRedactedSecrets(redactedPolicy(), Policy {}));
        QVERIFY(resolveRedactedSecrets(storedPolicy(), Policy {}));
    }
};

QTEST_APPLESS_MAIN(TestSecretMerge)
#include "testsecretmerge.moc"
