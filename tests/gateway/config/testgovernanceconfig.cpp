// The governance parts of the policy document: teams, a key's team/limits/budgets,
// prices and governance settings load, are validated with errors naming the field, and
// survive YAML and JSON round trips (GET -> PUT included); the shipped price table parses.

#include "config/defaultprices.h"
#include "policyroundtrip.h"

#include "config/policyloader.h"
#include "config/policywriter.h"
#include "config/secretmerge.h"

#include <QTest>

#include <optional>

using namespace Gateway::Config;

namespace {

Gateway::Expected<Policy, ConfigError> load(const QByteArray &yaml)
{
    return TestSupport::loadPolicy(yaml);
}

const QByteArray BASE = R"(
providers:
  - {name: openai, type: openai, base_url: https://api.openai.com/v1, keys: [{secret: sk-1}]}
routes:
  - model: chat
    targets: [{provider: openai, model: gpt-4o-mini}]
  - model: big
    targets: [{provider: openai, model: gpt-4o}]
)";

const QByteArray GOVERNED = BASE + R"(
governance:
  journal_flush_ms: 250
  default_output_tokens: 512
prices:
  - {model: gpt-4o-mini, input_per_mtok: 0.2, output_per_mtok: 0.8, cached_input_per_mtok: 0.1}
  - {model: my-local, input_per_mtok: 0, output_per_mtok: 0.01}
teams:
  - name: research
    routes: [chat]
    limits: {rpm: 600, tpm: 200000, max_concurrent_requests: 20}
    budgets: {usd_per_day: 50, usd_per_month: 1000.5, tokens_per_day: 5000000, soft_limit_fraction: 0.9}
    priority: batch
  - name: ops
virtual_keys:
  - name: alice
    key: sy-alice-0123456789
    team: research
    limits: {rpm: 60}
    budgets: {usd_per_day: 5}
  - {name: bob, key: sy-bob-0123456789, routes: [big]}
)";

} // namespace

class TestGovernanceConfig final : public QObject {
    Q_OBJECT

private slots:
    void governanceKeysLoad() const
    {
        const auto policy = load(GOVERNED);
        QVERIFY2(policy, policy ? "" : qPrintable(policy.error().toString()));
        QCOMPARE(policy->governance.journalFlushMs, 250);
        QCOMPARE(policy->governance.defaultOutputTokens, 512);
        QCOMPARE(policy->prices.size(), std::size_t {2});
        QCOMPARE(policy->prices[0].cachedInputPerMTok, 0.1);
        QCOMPARE(policy->prices[1].cachedInputPerMTok, -1.0);
        QCOMPARE(policy->teams.size(), std::size_t {2});
        const Team &research = policy->teams[0];
        QCOMPARE(research.limits.rpm, 600);
        QCOMPARE(research.limits.tpm, 200000);
        QCOMPARE(research.limits.maxConcurrent, 20);
        QCOMPARE(research.budgets.usdPerMonth, 1000.5);
        QCOMPARE(research.budgets.tokensPerDay, 5000000);
        QCOMPARE(research.budgets.tokensPerMonth, 0);
        QCOMPARE(research.budgets.softFraction, 0.9);
        QCOMPARE(policy->teams[1].budgets.softFraction, 0.8); // the default
        QCOMPARE(research.priority, std::optional {Gateway::Admission::PriorityClass::Batch});
        QVERIFY(!policy->teams[1].priority);
        const VirtualKey &alice = policy->virtualKeys[0];
        QCOMPARE(alice.team, QStringLiteral("research"));
        QCOMPARE(alice.limits.rpm, 60);
        QCOMPARE(alice.budgets.usdPerDay, 5.0);
        QVERIFY(policy->virtualKeys[1].team.isEmpty());
    }

    void governanceKeysSurviveTheRoundTrip_data() const
    {
        QTest::addColumn<bool>("json");
        QTest::newRow("yaml") << false;
        QTest::newRow("json") << true;
    }

    void governanceKeysSurviveTheRoundTrip() const
    {
        QFETCH(bool, json);
        TestSupport::verifyPolicyRoundTrip(load(GOVERNED).value(), json);
    }

    void documentsWithoutGovernanceDoNotChange() const
    {
        const Policy policy = load(BASE).value();
        const QByteArray yaml = toYaml(policy, SecretRendering::Included);
        for (const char *key : {"teams", "prices", "governance", "budgets", "limits", "team:"}) {
            QVERIFY2(!yaml.contains(key), key);
        }
    }

    void invalidGovernanceNamesTheField_data() const
    {
        QTest::addColumn<QByteArray>("tail");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("message");
        QTest::newRow("unknown team") << QByteArray("virtual_keys:\n  - {name: a, key: sy-a-0123456789, team: nope}\n")
                                      << u"virtual_keys[0].team"_qs << u"unknown team 'nope'"_qs;
        QTest::newRow("duplicate team") << QByteArray("teams: [{name: t}, {name: t}]\n") << u"teams[1].name"_qs
                                        << u"duplicate team name 't'"_qs;
        QTest::newRow("team route") << QByteArray("teams: [{name: t, routes: [chat, nope]}]\n") << u"teams[0].routes[1]"_qs
                                    << u"unknown route 'nope'"_qs;
        QTest::newRow("negative rpm") << QByteArray("teams: [{name: t, limits: {rpm: -1}}]\n") << u"teams[0].limits.rpm"_qs
                                      << u"between"_qs;
        QTest::newRow("limit typo") << QByteArray("teams: [{name: t, limits: {rps: 1}}]\n") << u"teams[0].limits.rps"_qs
                                    << u"unknown"_qs;
        QTest::newRow("soft fraction") << QByteArray("virtual_keys:\n  - {name: a, key: sy-a-0123456789, budgets: {soft_limit_fraction: 1.5}}\n")
                                       << u"virtual_keys[0].budgets.soft_limit_fraction"_qs << u"between 0 and 1"_qs;
        QTest::newRow("zero soft fraction") << QByteArray("teams: [{name: t, budgets: {soft_limit_fraction: 0}}]\n")
                                            << u"teams[0].budgets.soft_limit_fraction"_qs << u"greater than 0"_qs;
        QTest::newRow("negative usd") << QByteArray("teams: [{name: t, budgets: {usd_per_day: -5}}]\n")
                                      << u"teams[0].budgets.usd_per_day"_qs << u"between"_qs;
        QTest::newRow("price missing") << QByteArray("prices: [{model: m, input_per_mtok: 1}]\n")
                                       << u"prices[0].output_per_mtok"_qs << u"required"_qs;
        QTest::newRow("duplicate price") << QByteArray("prices: [{model: m, input_per_mtok: 1, output_per_mtok: 1},"
                                                       " {model: M, input_per_mtok: 1, output_per_mtok: 1}]\n")
                                         << u"prices[1].model"_qs << u"duplicate price"_qs;
        QTest::newRow("team priority") << QByteArray("teams: [{name: t, priority: urgent}]\n") << u"teams[0].priority"_qs
                                       << u"unknown priority 'urgent'"_qs;
        QTest::newRow("flush interval") << QByteArray("governance: {journal_flush_ms: 0}\n")
                                        << u"governance.journal_flush_ms"_qs << u"between"_qs;
    }

    void invalidGovernanceNamesTheField() const
    {
        QFETCH(QByteArray, tail);
        QFETCH(QString, field);
        QFETCH(QString, message);
        const auto policy = load(BASE + tail);
        QVERIFY(!policy);
        QVERIFY2(policy.error().field == field, qPrintable(policy.error().toString()));
        QVERIFY2(policy.error().message.contains(message), qPrintable(policy.error().toString()));
    }

    void shippedPriceTableParsesAndPricesDatedModels() const
    {
        QVERIFY(defaultPrices().size() >= 30);
        const auto table = priceTableFor(load(GOVERNED).value());
        QCOMPARE(table.find("gpt-4o-2024-08-06")->inputPerMTok, 2.5);
        QCOMPARE(table.find("claude-3-5-haiku-20241022")->outputPerMTok, 4.0);
        QCOMPARE(table.find("claude-sonnet-4-5-20250929")->inputPerMTok, 3.0);
        QCOMPARE(table.find("gemini-2.5-flash")->outputPerMTok, 2.5);
        // The policy's own entry wins over the default.
        QCOMPARE(table.find("gpt-4o-mini")->inputPerMTok, 0.2);
        QCOMPARE(table.find("my-local")->outputPerMTok, 0.01);
        QVERIFY(!table.find("llama-3-8b"));
    }
};

QTEST_APPLESS_MAIN(TestGovernanceConfig)
#include "testgovernanceconfig.moc"
