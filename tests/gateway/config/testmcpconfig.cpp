// The `mcp_servers:` section and the keys' and teams' `mcp_servers` / `mcp_tools`:
// parsed, written back losslessly (YAML and JSON), header values shown as "***" and
// kept by a "***" sent back, and every validation error naming its field.

#include "config/policyloader.h"
#include "config/policywriter.h"
#include "config/secretmerge.h"

#include <QTest>

#include <optional>

using Gateway::Config::ConfigError;
using Gateway::Config::parsePolicy;
using Gateway::Config::Policy;
using Gateway::Config::resolveRedactedSecrets;
using Gateway::Config::SecretRendering;
using Gateway::Config::toJson;
using Gateway::Config::toYaml;

namespace {

std::optional<QByteArray> noEnvironment(const QString &)
{
    return std::nullopt;
}

const QByteArray DOCUMENT =
    "mcp_servers:\n"
    "  - name: files\n"
    "    urls: [\"http://127.0.0.1:9001/mcp\", \"http://127.0.0.1:9002/mcp\"]\n"
    "    headers: {Authorization: \"Bearer mcp-upstream-secret\", X-Tenant: acme}\n"
    "    allowed_tools: [read_file, list_dir, write_file]\n"
    "    timeout_ms: 15000\n"
    "    session_ttl_ms: 600000\n"
    "  - name: github\n"
    "    urls: [\"https://mcp.example.com/github\"]\n"
    "teams:\n"
    "  - name: research\n"
    "    mcp_servers: [files]\n"
    "    mcp_tools: {files: [read_file, list_dir]}\n"
    "virtual_keys:\n"
    "  - name: alice\n"
    "    key: sk-alice-000000001\n"
    "    team: research\n"
    "    mcp_tools: {files: [read_file]}\n"
    "  - name: bob\n"
    "    key: sk-bob-0000000002\n"
    "    mcp_servers: [github]\n";

Policy parse(const QByteArray &document)
{
    const auto parsed = parsePolicy(document, QStringLiteral("mcp.yaml"), noEnvironment);
    if (!parsed) {
        qFatal("document does not parse: %s\n%s", qPrintable(parsed.error().toString()), document.constData());
    }
    return parsed.value();
}

ConfigError errorOf(const QByteArray &document)
{
    const auto parsed = parsePolicy(document, QStringLiteral("mcp.yaml"), noEnvironment);
    return parsed ? ConfigError {} : parsed.error();
}

} // namespace

class TestMcpConfig final : public QObject {
    Q_OBJECT

private slots:
    void parsesServersAndAccess() const
    {
        const Policy policy = parse(DOCUMENT);
        QCOMPARE(policy.mcpServers.size(), std::size_t {2});
        const auto &files = policy.mcpServers[0];
        QCOMPARE(files.name, QStringLiteral("files"));
        QCOMPARE(files.urls.size(), std::size_t {2});
        QCOMPARE(files.headers.front().second, QByteArray("Bearer mcp-upstream-secret"));
        QCOMPARE(files.allowedTools.size(), 3);
        QCOMPARE(files.timeoutMs, 15000);
        QCOMPARE(files.sessionTtlMs, 600000);
        const auto &github = policy.mcpServers[1];
        QCOMPARE(github.timeoutMs, 60000);        // default
        QCOMPARE(github.sessionTtlMs, 3600000);   // default
        QVERIFY(github.allowedTools.isEmpty());   // every tool
        QCOMPARE(policy.teams[0].mcp.servers, QStringList {QStringLiteral("files")});
        QCOMPARE(policy.virtualKeys[0].mcp.tools.front().second, QStringList {QStringLiteral("read_file")});
        QCOMPARE(policy.virtualKeys[1].mcp.servers, QStringList {QStringLiteral("github")});
    }

    void roundTripsLosslessly() const
    {
        const Policy policy = parse(DOCUMENT);
        QVERIFY(parse(toYaml(policy, SecretRendering::Included)) == policy);
        QVERIFY(parse(toJson(policy, SecretRendering::Included)) == policy);
        // A policy without MCP writes no MCP keys at all.
        QVERIFY(!toYaml(Policy {}, SecretRendering::Included).contains("mcp_"));
    }

    void headerValuesAreSecrets() const
    {
        const Policy stored = parse(DOCUMENT);
        const QByteArray redacted = toYaml(stored, SecretRendering::Redacted);
        QVERIFY(!redacted.contains("mcp-upstream-secret"));
        QVERIFY(!redacted.contains("acme"));
        QVERIFY(redacted.contains("Authorization: \"***\""));
        // Sent back unchanged, "***" keeps the stored values.
        const auto resolved = resolveRedactedSecrets(parse(redacted), stored);
        QVERIFY(resolved.hasValue());
        QCOMPARE(resolved.value().mcpServers[0].headers, stored.mcpServers[0].headers);
        // With nothing stored to keep, the field is named.
        Policy withoutServers = stored;
        withoutServers.mcpServers.clear();
        const auto unresolved = resolveRedactedSecrets(parse(redacted), withoutServers);
        QVERIFY(!unresolved.hasValue());
        QCOMPARE(unresolved.error().field, QStringLiteral("mcp_servers[0].headers.Authorization"));
    }

    void validationNamesTheField_data() const
    {
        QTest::addColumn<QByteArray>("document");
        QTest::addColumn<QString>("field");
        QTest::newRow("no urls") << QByteArray("mcp_servers: [{name: a}]") << QStringLiteral("mcp_servers[0].urls");
        QTest::newRow("empty urls") << QByteArray("mcp_servers: [{name: a, urls: []}]") << QStringLiteral("mcp_servers[0].urls");
        QTest::newRow("bad url") << QByteArray("mcp_servers: [{name: a, urls: [\"ftp://x/mcp\"]}]")
                                 << QStringLiteral("mcp_servers[0].urls[0]");
        QTest::newRow("bad name") << QByteArray("mcp_servers: [{name: \"a/b\", urls: [\"http://x/mcp\"]}]")
                                  << QStringLiteral("mcp_servers[0].name");
        QTest::newRow("duplicate name")
            << QByteArray("mcp_servers: [{name: a, urls: [\"http://x/mcp\"]}, {name: a, urls: [\"http://y/mcp\"]}]")
            << QStringLiteral("mcp_servers[1].name");
        QTest::newRow("reserved header")
            << QByteArray("mcp_servers: [{name: a, urls: [\"http://x/mcp\"], headers: {Mcp-Session-Id: x}}]")
            << QStringLiteral("mcp_servers[0].headers.Mcp-Session-Id");
        QTest::newRow("timeout") << QByteArray("mcp_servers: [{name: a, urls: [\"http://x/mcp\"], timeout_ms: 0}]")
                                 << QStringLiteral("mcp_servers[0].timeout_ms");
        QTest::newRow("unknown key") << QByteArray("mcp_servers: [{name: a, urls: [\"http://x/mcp\"], tools: [x]}]")
                                     << QStringLiteral("mcp_servers[0].tools");
        QTest::newRow("key names unknown server")
            << QByteArray("mcp_servers: [{name: a, urls: [\"http://x/mcp\"]}]\n"
                          "virtual_keys: [{name: k, key: sk-000000001, mcp_servers: [a, b]}]")
            << QStringLiteral("virtual_keys[0].mcp_servers[1]");
        QTest::newRow("team tools of unknown server")
            << QByteArray("mcp_servers: [{name: a, urls: [\"http://x/mcp\"]}]\n"
                          "teams: [{name: t, mcp_tools: {b: [x]}}]")
            << QStringLiteral("teams[0].mcp_tools.b");
    }

    void validationNamesTheField() const
    {
        QFETCH(QByteArray, document);
        QFETCH(QString, field);
        const ConfigError error = errorOf(document);
        QVERIFY2(!error.message.isEmpty(), "the document was accepted");
        QCOMPARE(error.field, field);
    }
};

QTEST_APPLESS_MAIN(TestMcpConfig)
#include "testmcpconfig.moc"
