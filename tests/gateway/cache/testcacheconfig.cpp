// routes[].cache: parsed with its defaults, round-trips through the policy document
// (YAML and JSON), and every invalid value is refused naming its field.

#include "config/policyloader.h"
#include "config/policywriter.h"

#include <QTest>

using namespace Gateway;

namespace {

const QByteArray HEAD = "providers:\n"
                        "  - {name: sim, type: vllm, base_url: 'http://127.0.0.1:1/v1'}\n"
                        "routes:\n"
                        "  - model: embed\n"
                        "    targets: [{provider: sim, model: e}]\n"
                        "  - model: chat\n"
                        "    targets: [{provider: sim, model: m}]\n";

Expected<Config::Policy, Config::ConfigError> parse(const QByteArray &yaml)
{
    return Config::parsePolicy(yaml, QStringLiteral("test.yaml"), [](const QString &) -> std::optional<QByteArray> {
        return std::nullopt;
    });
}

} // namespace

class TestCacheConfig final : public QObject {
    Q_OBJECT

private slots:
    void parsesTheDocumentedExample()
    {
        const auto policy = parse(HEAD + "    cache: {exact: {ttl_ms: 300000, max_entries: 10000, max_bytes: 67108864}, "
                                         "semantic: {embeddings_route: embed, threshold: 0.95, ttl_ms: 3600000, max_entries: 5000}, scope: key}\n");
        QVERIFY2(policy, policy ? "" : qPrintable(policy.error().toString()));
        const Cache::RouteCacheSettings &cache = policy->routes[1].cache;
        QVERIFY(cache.exact.enabled);
        QCOMPARE(cache.exact.ttlMs, 300000);
        QCOMPARE(cache.exact.maxBytes, 67108864);
        QVERIFY(cache.semantic.enabled);
        QCOMPARE(cache.semantic.embeddingsRoute, QByteArray("embed"));
        QCOMPARE(cache.semantic.threshold, 0.95);
        QCOMPARE(cache.scope, Cache::CacheScope::Key);
        QVERIFY(!policy->routes[0].cache.isEnabled());
    }

    void defaultsApplyToAnEmptyKind()
    {
        const auto policy = parse(HEAD + "    cache: {exact: {}, scope: team}\n");
        QVERIFY(policy);
        const Cache::RouteCacheSettings &cache = policy->routes[1].cache;
        QVERIFY(cache.exact.enabled);
        QCOMPARE(cache.exact.ttlMs, 300000);
        QCOMPARE(cache.exact.maxEntries, 10000);
        QCOMPARE(cache.exact.maxBytes, 64LL * 1024 * 1024);
        QVERIFY(!cache.semantic.enabled);
        QCOMPARE(cache.scope, Cache::CacheScope::Team);
    }

    void roundTripsThroughTheDocument()
    {
        const auto policy = parse(HEAD + "    cache: {exact: {ttl_ms: 1500, max_entries: 7, max_bytes: 4096}, "
                                         "semantic: {embeddings_route: embed, threshold: 0.875, ttl_ms: 99000, max_entries: 12}, scope: global}\n");
        QVERIFY(policy);
        for (const QByteArray &document : {Config::toYaml(*policy, Config::SecretRendering::Included),
                                           Config::toJson(*policy, Config::SecretRendering::Included)}) {
            const auto again = parse(document);
            QVERIFY2(again, again ? "" : qPrintable(again.error().toString() + u'\n' + QString::fromUtf8(document)));
            QCOMPARE(again->routes[1].cache, policy->routes[1].cache);
            QVERIFY(!again->routes[0].cache.isEnabled());
            QVERIFY(*again == *policy);
        }
        QVERIFY(Config::toYaml(*policy, Config::SecretRendering::Included).contains("embeddings_route: embed"));
    }

    void invalidValuesNameTheirField_data()
    {
        QTest::addColumn<QByteArray>("cache");
        QTest::addColumn<QString>("field");
        QTest::newRow("empty") << QByteArray("{}") << QStringLiteral("routes[1].cache");
        QTest::newRow("unknown key") << QByteArray("{exact: {}, ttl: 3}") << QStringLiteral("routes[1].cache");
        QTest::newRow("ttl") << QByteArray("{exact: {ttl_ms: 0}}") << QStringLiteral("routes[1].cache.exact.ttl_ms");
        QTest::newRow("entries") << QByteArray("{exact: {max_entries: -1}}") << QStringLiteral("routes[1].cache.exact.max_entries");
        QTest::newRow("bytes") << QByteArray("{exact: {max_bytes: 10}}") << QStringLiteral("routes[1].cache.exact.max_bytes");
        QTest::newRow("scope") << QByteArray("{exact: {}, scope: world}") << QStringLiteral("routes[1].cache.scope");
        QTest::newRow("no route") << QByteArray("{semantic: {}}") << QStringLiteral("routes[1].cache.semantic.embeddings_route");
        QTest::newRow("unknown route") << QByteArray("{semantic: {embeddings_route: nope}}")
                                       << QStringLiteral("routes[1].cache.semantic.embeddings_route");
        QTest::newRow("itself") << QByteArray("{semantic: {embeddings_route: chat}}")
                                << QStringLiteral("routes[1].cache.semantic.embeddings_route");
        QTest::newRow("threshold") << QByteArray("{semantic: {embeddings_route: embed, threshold: 1.5}}")
                                   << QStringLiteral("routes[1].cache.semantic.threshold");
        QTest::newRow("zero threshold") << QByteArray("{semantic: {embeddings_route: embed, threshold: 0}}")
                                        << QStringLiteral("routes[1].cache.semantic.threshold");
    }

    void invalidValuesNameTheirField()
    {
        QFETCH(QByteArray, cache);
        QFETCH(QString, field);
        const auto policy = parse(HEAD + "    cache: " + cache + "\n");
        QVERIFY(!policy);
        QVERIFY2(policy.error().field.startsWith(field), qPrintable(policy.error().toString()));
    }
};

QTEST_APPLESS_MAIN(TestCacheConfig)
#include "testcacheconfig.moc"
