#include "gatewayfixture.h"

#include "config/policyloader.h"

#include <QtDebug>

namespace TestSupport {

std::unique_ptr<Gateway::GatewayRuntime> startGateway(const QByteArray &yaml, int threads)
{
    const auto noEnvironment = [](const QString &) -> std::optional<QByteArray> { return std::nullopt; };
    auto policy = Gateway::Config::parsePolicy(yaml, QStringLiteral("test.yaml"), noEnvironment);
    if (!policy) {
        qWarning().noquote() << "test policy is invalid:" << policy.error().toString();
        return nullptr;
    }
    policy->gateway.listenHost = QStringLiteral("127.0.0.1");
    policy->gateway.listenPort = 0;
    policy->gateway.threads = threads;
    auto runtime = std::make_unique<Gateway::GatewayRuntime>(policy.value());
    const auto port = runtime->start();
    if (!port) {
        qWarning().noquote() << "gateway did not start:" << port.error();
        return nullptr;
    }
    return runtime;
}

} // namespace TestSupport
