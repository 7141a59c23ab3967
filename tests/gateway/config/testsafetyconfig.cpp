// The safety parts of the policy document: data residency (targets[].region, regions of
// routes, keys and teams), the prompt firewall and redaction load, are validated with
// errors naming the field, and survive YAML and JSON round trips (GET -> PUT included).

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
  - {name: eu, type: openai, base_url: https://eu.example.com/v1, keys: [{secret: sk-1}]}
  - {name: us, type: openai, base_url: https://us.example.com/v1, keys: [{secret: sk-2}]}
routes:
  - model: chat
    targets: [{provider: eu, model: m1, region: eu-west}, {provider: us, model: m2, region: us}]
    fallbacks: [chat-us]
  - model: chat-us
    targets: [{provider: us, model: m3, region: us}]
)";

const QByteArray SAFE = BASE + R"(
  - model: eu-only
    regions: [eu-west]
    firewall:
      action: redact
      rules: [api_keys, employee_id, {name: ticket, regex: 'TCK-[0-9]{6}\b'}, {name: quoted, regex: '"[a-z]+": ?\d'}]
    targets: [{provider: eu, model: m1, region: eu-west}]
  - model: guarded
    firewall: {rules: [emails]}
    targets: [{provider: eu, model: m1, region: eu-west}]
redaction:
  patterns: [emails, card_numbers]
  custom: [{name: employee_id, regex: 'EMP-[0-9]{6}'}, {name: project, regex: '(?i)project\s+[a-z]+'}]
teams:
  - {name: europe, regions: [eu-west]}
virtual_keys:
  - {name: alice, key: sy-alice-0123456789, team: europe, regions: [eu-west, us]}
  - {name: bob, key: sy-bob-0123456789}
)";

} // namespace

class TestSafetyConfig final : public QObject {
    Q_OBJECT

private slots:
    void residencyKeysLoad() const
    {
        const auto policy = load(SAFE);
        QVERIFY2(policy, policy ? "" : qPrintable(policy.error().toString()));
        QCOMPARE(policy->routes[0].targets[0].region, QStringLiteral("eu-west"));
        QCOMPARE(policy->routes[0].targets[1].region, QStringLiteral("us"));
        QVERIFY(policy->routes[0].regions.isEmpty());
        QCOMPARE(policy->routes[2].regions, QStringList {QStringLiteral("eu-west")});
        QCOMPARE(policy->teams[0].regions, QStringList {QStringLiteral("eu-west")});
        QCOMPARE(policy->virtualKeys[0].regions, (QStringList {QStringLiteral("eu-west"), QStringLiteral("us")}));
        QVERIFY(policy->virtualKeys[1].regions.isEmpty());
        const FirewallPolicy &firewall = policy->routes[2].firewall;
        QCOMPARE(firewall.action, FirewallAction::Redact);
        QCOMPARE(firewall.rules.size(), std::size_t {4});
        QCOMPARE(firewall.rules[1].name, QStringLiteral("employee_id"));
        QVERIFY(firewall.rules[1].regex.isEmpty()); // by name
        QCOMPARE(firewall.rules[2].regex, QStringLiteral("TCK-[0-9]{6}\\b"));
        QCOMPARE(policy->routes[3].firewall.action, FirewallAction::Block); // the default
        QVERIFY(!policy->routes[0].firewall.isEnabled());
        QCOMPARE(policy->redaction.builtins, (QStringList {QStringLiteral("emails"), QStringLiteral("card_numbers")}));
        QCOMPARE(policy->redaction.custom.size(), std::size_t {2});
        QCOMPARE(policy->redaction.custom[1].regex, QStringLiteral("(?i)project\\s+[a-z]+"));
        // Without a section: every built-in, nothing custom.
        QCOMPARE(load(BASE)->redaction.builtins.size(), 3);
    }

    void safetyKeysSurviveTheRoundTrip_data() const
    {
        QTest::addColumn<bool>("json");
        QTest::newRow("yaml") << false;
        QTest::newRow("json") << true;
    }

    void safetyKeysSurviveTheRoundTrip() const
    {
        QFETCH(bool, json);
        TestSupport::verifyPolicyRoundTrip(load(SAFE).value(), json);
    }

    void documentsWithoutSafetyKeysDoNotChange() const
    {
        const Policy policy = load(R"(
providers:
  - {name: eu, type: openai, base_url: https://eu.example.com/v1}
routes:
  - model: chat
    targets: [{provider: eu, model: m1}]
)").value();
        const QByteArray yaml = toYaml(policy, SecretRendering::Included);
        for (const char *key : {"region", "firewall", "redaction"}) {
            QVERIFY2(!yaml.contains(key), key);
        }
    }

    void invalidSafetyKeysNameTheField_data() const
    {
        QTest::addColumn<QByteArray>("yaml");
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("message");
        QTest::newRow("region name") << QByteArray(BASE).replace("region: us}]\n", "region: 'u s'}]\n")
                                     << u"routes[0].targets[1].region"_qs << u"not a region name"_qs;
        QTest::newRow("one server, two regions")
            << QByteArray(BASE).replace("model: m3, region: us", "model: m2, region: eu-west")
            << u"routes[1].targets[0].region"_qs << u"a server is in one region"_qs;
        QTest::newRow("one server, region and none")
            << QByteArray(BASE).replace("model: m3, region: us", "model: m2")
            << u"routes[1].targets[0].region"_qs << u"no region"_qs;
        QTest::newRow("duplicate region") << BASE + "virtual_keys:\n  - {name: a, key: sy-a-0123456789, regions: [eu, eu]}\n"
                                          << u"virtual_keys[0].regions[1]"_qs << u"duplicate region 'eu'"_qs;
        QTest::newRow("route regions type") << QByteArray(BASE).replace("  - model: chat-us\n", "  - model: chat-us\n    regions: eu\n")
                                            << u"routes[1].regions"_qs << u""_qs;
        QTest::newRow("team region") << BASE + "teams: [{name: t, regions: ['']}]\n" << u"teams[0].regions[0]"_qs
                                     << u"not a region name"_qs;
        QTest::newRow("custom regex") << BASE + "redaction:\n  custom: [{name: a, regex: x}, {name: b, regex: y}, {name: c, regex: 'EMP-[0-9'}]\n"
                                      << u"redaction.custom[2].regex"_qs << u"not a valid RE2 regular expression"_qs;
        QTest::newRow("look-behind") << BASE + "redaction:\n  custom: [{name: a, regex: '(?<=k)x'}]\n"
                                     << u"redaction.custom[0].regex"_qs << u"RE2"_qs;
        QTest::newRow("custom name") << BASE + "redaction:\n  custom: [{name: My-Name, regex: x}]\n"
                                     << u"redaction.custom[0].name"_qs << u"not a pattern name"_qs;
        QTest::newRow("custom shadows built-in") << BASE + "redaction:\n  custom: [{name: emails, regex: x}]\n"
                                                 << u"redaction.custom[0].name"_qs << u"duplicate pattern name 'emails'"_qs;
        QTest::newRow("unknown built-in") << BASE + "redaction: {patterns: [phones]}\n" << u"redaction.patterns[0]"_qs
                                          << u"unknown built-in pattern 'phones'"_qs;
        QTest::newRow("firewall action") << QByteArray(BASE).replace("    fallbacks: [chat-us]\n", "    fallbacks: [chat-us]\n    firewall: {action: drop, rules: [emails]}\n")
                                         << u"routes[0].firewall.action"_qs << u"unknown action 'drop'"_qs;
        QTest::newRow("firewall unknown rule") << QByteArray(BASE).replace("    fallbacks: [chat-us]\n", "    fallbacks: [chat-us]\n    firewall: {rules: [emails, nope]}\n")
                                               << u"routes[0].firewall.rules[1]"_qs << u"unknown pattern 'nope'"_qs;
        QTest::newRow("firewall empty") << QByteArray(BASE).replace("    fallbacks: [chat-us]\n", "    fallbacks: [chat-us]\n    firewall: {rules: []}\n")
                                        << u"routes[0].firewall.rules"_qs << u"at least one rule"_qs;
        QTest::newRow("firewall regex") << QByteArray(BASE).replace("    fallbacks: [chat-us]\n", "    fallbacks: [chat-us]\n    firewall: {rules: [{name: x, regex: '('}]}\n")
                                        << u"routes[0].firewall.rules[0].regex"_qs << u"RE2"_qs;
        QTest::newRow("firewall shadows") << QByteArray(BASE).replace("    fallbacks: [chat-us]\n", "    fallbacks: [chat-us]\n    firewall: {rules: [{name: emails, regex: x}]}\n")
                                          << u"routes[0].firewall.rules[0].name"_qs << u"already a pattern's name"_qs;
    }

    void invalidSafetyKeysNameTheField() const
    {
        QFETCH(QByteArray, yaml);
        QFETCH(QString, field);
        QFETCH(QString, message);
        const auto policy = load(yaml);
        QVERIFY(!policy);
        QVERIFY2(policy.error().field == field, qPrintable(policy.error().toString()));
        QVERIFY2(policy.error().message.contains(message), qPrintable(policy.error().toString()));
    }
};

QTEST_APPLESS_MAIN(TestSafetyConfig)
#include "testsafetyconfig.moc"
