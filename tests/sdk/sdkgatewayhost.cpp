// Runs a gateway in front of simulated upstreams of both formats, then the official-SDK
// tests (node --test) against it, and exits with their status. Started by
// run-sdk-tests.sh once the SDKs are installed.
//
//   sdk_gateway_host <node> <test files...>
//
// The routes (docs/TRANSLATION.md names the same shapes):
//   to-claude / to-gpu        one healthy Anthropic / OpenAI-format target
//   refuse-claude / refuse-gpu  a target that answers every request 400
//   overloaded-claude         an Anthropic target that answers 529 overloaded
//   gpu-then-claude           a failing (500) OpenAI target, falling back to to-claude
//   claude-then-gpu           a failing (500) Anthropic target, falling back to to-gpu

#include "gatewayfixture.h"
#include "sim/simulatedupstream.h"

#include <QCoreApplication>
#include <QProcess>
#include <QTimer>

#include <cstdio>
#include <memory>
#include <vector>

using Gateway::Sim::Behaviour;
using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;

namespace {

std::unique_ptr<SimulatedUpstream> startUpstream(const QString &name, Flavor flavor, int errorStatus)
{
    auto upstream = std::make_unique<SimulatedUpstream>(name, flavor);
    if (!upstream->listen().hasValue()) {
        return nullptr;
    }
    if (errorStatus > 0) {
        Behaviour failing;
        failing.errorRate = 1.0;
        failing.errorStatus = errorStatus;
        upstream->setBehaviour(failing);
    }
    return upstream;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList arguments = app.arguments();
    if (arguments.size() < 3) {
        std::fprintf(stderr, "usage: sdk_gateway_host <node> <test files...>\n");
        return 64;
    }
    struct Spec {
        const char *name;
        Flavor flavor;
        int errorStatus;
    };
    const Spec specs[] = {
        {"gpu", Flavor::OpenAi, 0},           {"claude", Flavor::Anthropic, 0},
        {"gpu-refusing", Flavor::OpenAi, 400}, {"claude-refusing", Flavor::Anthropic, 400},
        {"claude-overloaded", Flavor::Anthropic, 529},
        {"gpu-down", Flavor::OpenAi, 500},     {"claude-down", Flavor::Anthropic, 500},
    };
    std::vector<std::unique_ptr<SimulatedUpstream>> upstreams;
    QByteArray providers;
    for (const Spec &spec : specs) {
        auto upstream = startUpstream(QString::fromLatin1(spec.name), spec.flavor, spec.errorStatus);
        if (!upstream) {
            std::fprintf(stderr, "sdk_gateway_host: could not start the simulated upstream %s\n", spec.name);
            return 1;
        }
        const bool anthropic = spec.flavor == Flavor::Anthropic;
        providers += "  - name: " + QByteArray(spec.name) + "\n    type: " + (anthropic ? "anthropic" : "vllm") +
                     "\n    base_url: " + upstream->baseUrl() + '\n';
        if (anthropic) {
            providers += "    keys: [{name: k1, secret: sk-ant-sim}]\n";
        }
        upstreams.push_back(std::move(upstream));
    }
    const QByteArray yaml = "providers:\n" + providers + R"(routes:
  - model: to-claude
    targets: [{provider: claude, model: claude-sim}]
  - model: to-gpu
    targets: [{provider: gpu, model: llama-sim}]
  - model: refuse-claude
    targets: [{provider: claude-refusing, model: claude-sim}]
  - model: refuse-gpu
    targets: [{provider: gpu-refusing, model: llama-sim}]
  - model: overloaded-claude
    targets: [{provider: claude-overloaded, model: claude-sim}]
  - model: gpu-then-claude
    targets: [{provider: gpu-down, model: llama-sim}]
    fallbacks: [to-claude]
  - model: claude-then-gpu
    targets: [{provider: claude-down, model: claude-sim}]
    fallbacks: [to-gpu]
)";
    auto gateway = TestSupport::startGateway(yaml, 2);
    if (!gateway) {
        return 1;
    }

    QProcess node;
    node.setProcessChannelMode(QProcess::ForwardedChannels);
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("SWITCHYARD_URL"), QStringLiteral("http://127.0.0.1:%1").arg(gateway->port()));
    node.setProcessEnvironment(environment);
    int status = 1;
    QObject::connect(&node, &QProcess::finished, &app, [&](int exitCode, QProcess::ExitStatus exitStatus) {
        status = exitStatus == QProcess::NormalExit ? exitCode : 1;
        app.quit();
    });
    QObject::connect(&node, &QProcess::errorOccurred, &app, [&](QProcess::ProcessError error) {
        if (error == QProcess::FailedToStart) {
            std::fprintf(stderr, "sdk_gateway_host: could not start %s\n", qPrintable(arguments[1]));
            app.quit();
        }
    });
    QStringList nodeArguments {QStringLiteral("--test"), QStringLiteral("--test-concurrency=1")};
    nodeArguments += arguments.mid(2);
    // Started from the event loop: the gateway serves on its worker threads meanwhile.
    QTimer::singleShot(0, &app, [&] { node.start(arguments[1], nodeArguments); });
    app.exec();
    return status;
}
