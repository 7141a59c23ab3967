#pragma once

// What every policy section must survive, shared by the config suites: rendered as YAML or
// JSON with secrets it parses back to the same policy and renders byte for byte the same;
// rendered redacted (GET /admin/v1/policy, `switchyard export`) and PUT back, "***"
// resolves to the stored secrets and the policy is unchanged.

#include "config/policyloader.h"
#include "config/policywriter.h"
#include "config/secretmerge.h"

#include <QTest>

#include <optional>

namespace TestSupport {

// A document parsed as the tests' file, with no environment variables.
inline Gateway::Expected<Gateway::Config::Policy, Gateway::Config::ConfigError> loadPolicy(const QByteArray &document)
{
    return Gateway::Config::parsePolicy(document, QStringLiteral("test.yaml"),
                                        [](const QString &) { return std::optional<QByteArray> {}; });
}

// Fails the calling test (QVERIFY) when `policy` does not survive; call it as the last
// statement of a test, or check QTest::currentTestFailed() after it.
inline void verifyPolicyRoundTrip(const Gateway::Config::Policy &policy, bool json)
{
    using Gateway::Config::SecretRendering;
    const auto render = [json](const Gateway::Config::Policy &p, SecretRendering secrets) {
        return json ? Gateway::Config::toJson(p, secrets) : Gateway::Config::toYaml(p, secrets);
    };
    const QByteArray document = render(policy, SecretRendering::Included);
    const auto reparsed = loadPolicy(document);
    QVERIFY2(reparsed, reparsed ? "" : qPrintable(reparsed.error().toString() + u'\n' + QString::fromUtf8(document)));
    QVERIFY(reparsed.value() == policy);
    QCOMPARE(render(reparsed.value(), SecretRendering::Included), document);
    const auto redacted = loadPolicy(render(policy, SecretRendering::Redacted));
    QVERIFY2(redacted, qPrintable(redacted ? QString() : redacted.error().toString()));
    const auto resolved = Gateway::Config::resolveRedactedSecrets(redacted.value(), policy);
    QVERIFY2(resolved, qPrintable(resolved ? QString() : resolved.error().toString()));
    QVERIFY(resolved.value() == policy);
}

} // namespace TestSupport
