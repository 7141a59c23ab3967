#include "storegateway.h"

#include "config/policyloader.h"
#include "database.h"
#include "logwriter.h"
#include "policyservice.h"
#include "runtime/gatewayruntime.h"
#include "sim/simulatedupstream.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <atomic>

namespace UiTest {

using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;

StoreGateway::StoreGateway() = default;

StoreGateway::~StoreGateway()
{
    {
        const std::lock_guard lock {m_runningMutex};
        m_running = nullptr;
    }
    m_gateway.reset();
    m_store.reset();
    m_log.reset();
}

QByteArray StoreGateway::policyYaml(const QByteArray &secondWeight, const QByteArray &extra) const
{
    return "providers:\n"
           "  - name: a\n    type: vllm\n    base_url: " + m_a->baseUrl() + "\n"
           "  - name: b\n    type: sglang\n    base_url: " + m_b->baseUrl() + "\n"
           "routes:\n"
           "  - model: chat\n"
           "    targets: [{provider: a, model: ma, weight: 1}, {provider: b, model: mb, weight: " + secondWeight + "}]\n"
           + extra;
}

bool StoreGateway::start(const QByteArray &extra)
{
    m_dir = std::make_unique<QTemporaryDir>();
    if (!m_dir->isValid()) {
        qWarning("no temporary directory");
        return false;
    }
    m_a = std::make_unique<SimulatedUpstream>(QStringLiteral("a"), Flavor::OpenAi);
    m_b = std::make_unique<SimulatedUpstream>(QStringLiteral("b"), Flavor::OpenAi);
    if (!m_a->listen().hasValue() || !m_b->listen().hasValue()) {
        qWarning("simulated upstreams did not start");
        return false;
    }
    Storage::LogWriter::Options logOptions;
    logOptions.databasePath = Storage::Database::defaultPath(m_dir->path());
    auto log = Storage::LogWriter::start(logOptions);
    if (!log) {
        qWarning("log writer: %s", qPrintable(log.error()));
        return false;
    }
    m_log = std::move(log).value();
    Storage::PolicyService::Options options;
    options.dataDirectory = m_dir->path();
    options.log = m_log.get();
    options.apply = [this](const Gateway::Config::Policy &policy) {
        const std::lock_guard lock {m_runningMutex};
        if (m_running) {
            m_running->applyPolicy(policy);
        }
    };
    auto store = Storage::PolicyService::start(options);
    if (!store) {
        qWarning("store: %s", qPrintable(store.error()));
        return false;
    }
    m_store = std::move(store).value();
    const auto noEnvironment = [](const QString &) -> std::optional<QByteArray> { return std::nullopt; };
    auto policy = Gateway::Config::parsePolicy(policyYaml("1", extra), QStringLiteral("test"), noEnvironment);
    if (!policy) {
        qWarning("policy: %s", qPrintable(policy.error().toString()));
        return false;
    }
    auto boot = m_store->bootstrap(policy.value(), QStringLiteral("test"));
    if (!boot || !boot->policy) {
        qWarning("bootstrap failed");
        return false;
    }
    Gateway::Config::Policy running = *boot->policy;
    running.gateway.listenHost = QStringLiteral("127.0.0.1");
    running.gateway.listenPort = 0;
    running.gateway.threads = 1;
    m_gateway = std::make_unique<Gateway::GatewayRuntime>(running);
    m_gateway->setRequestLog(m_log.get());
    m_gateway->setAdminService(m_store.get());
    if (!m_gateway->start()) {
        qWarning("gateway did not start");
        return false;
    }
    const std::lock_guard lock {m_runningMutex};
    m_running = m_gateway.get();
    return true;
}

TestSupport::TestHttpClient::Response StoreGateway::chat(const QByteArray &model, const QByteArray &key)
{
    TestSupport::TestHttpClient http {m_gateway->port()};
    TestSupport::TestHttpClient::HeaderList headers;
    if (!key.isEmpty()) {
        headers.push_back({"authorization", "Bearer " + key});
    }
    http.post("/v1/chat/completions",
              "{\"model\":\"" + model + "\",\"max_tokens\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", headers);
    return http.waitForResponses(1) ? http.responses().constFirst() : TestSupport::TestHttpClient::Response {};
}

int StoreGateway::versionCount()
{
    // The test thread waits for the store thread's answer while processing events.
    auto count = std::make_shared<std::atomic<int>>(-1);
    m_store->listVersions(1000, 0, [count](Gateway::Admin::AdminReply reply) {
        count->store(static_cast<int>(QJsonDocument::fromJson(reply.body).object().value(u"data").toArray().size()));
    });
    [[maybe_unused]] const bool answered = QTest::qWaitFor([&count] { return count->load() >= 0; }, 5000);
    return count->load();
}

} // namespace UiTest
