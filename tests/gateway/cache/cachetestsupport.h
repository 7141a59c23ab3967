#pragma once

// Shared by the response-cache suites: a gateway with a recording request log, the
// simulated upstreams, and one-shot requests.

#include "sim/simulatedupstream.h"
#include "testhttpclient.h"

#include "config/policyloader.h"
#include "runtime/gatewayruntime.h"
#include "runtime/requestlog.h"

#include <QDebug>

#include <memory>
#include <mutex>
#include <vector>

namespace CacheTest {

class RecordingLog final : public Gateway::RequestLogSink {
public:
    void record(Gateway::RequestLogEntry &&entry) override
    {
        const std::lock_guard lock {m_mutex};
        m_entries.push_back(std::move(entry));
    }
    void recordEvent(QString, QString, QByteArray) override {}
    quint64 writtenRows() const override { return 0; }
    quint64 droppedRows() const override { return 0; }
    std::vector<Gateway::RequestLogEntry> entries() const
    {
        const std::lock_guard lock {m_mutex};
        return m_entries;
    }

private:
    mutable std::mutex m_mutex;
    std::vector<Gateway::RequestLogEntry> m_entries;
};

inline std::unique_ptr<Gateway::GatewayRuntime> startGateway(const QByteArray &yaml, RecordingLog *log = nullptr,
                                                             Gateway::Cache::SemanticStore *store = nullptr,
                                                             const std::vector<Gateway::Cache::SemanticRecord> &restored = {})
{
    auto policy = Gateway::Config::parsePolicy(yaml, QStringLiteral("test.yaml"),
                                               [](const QString &) -> std::optional<QByteArray> { return std::nullopt; });
    if (!policy) {
        qWarning().noquote() << "test policy is invalid:" << policy.error().toString();
        return nullptr;
    }
    policy->gateway.listenHost = QStringLiteral("127.0.0.1");
    policy->gateway.listenPort = 0;
    policy->gateway.threads = 2;
    auto runtime = std::make_unique<Gateway::GatewayRuntime>(policy.value());
    if (log) {
        runtime->setRequestLog(log);
    }
    runtime->setSemanticStore(store);
    runtime->restoreSemanticCache(restored);
    if (!runtime->start()) {
        return nullptr;
    }
    return runtime;
}

inline std::unique_ptr<Gateway::Sim::SimulatedUpstream> startSim()
{
    auto sim = std::make_unique<Gateway::Sim::SimulatedUpstream>(QStringLiteral("sim"), Gateway::Sim::Flavor::OpenAi);
    if (!sim->listen().hasValue()) {
        return nullptr;
    }
    return sim;
}

inline TestSupport::TestHttpClient::Response send(quint16 port, const QByteArray &body, const QByteArray &key = {},
                                                  const TestSupport::TestHttpClient::HeaderList &extra = {},
                                                  const QByteArray &path = "/v1/chat/completions")
{
    TestSupport::TestHttpClient client {port};
    TestSupport::TestHttpClient::HeaderList headers = extra;
    if (!key.isEmpty()) {
        headers.push_back({"authorization", "Bearer " + key});
    }
    client.post(path, body, headers);
    if (!client.waitForResponses(1, 20000)) {
        return {};
    }
    return client.responses().constFirst();
}

inline QByteArray chat(const QByteArray &text, bool stream = false, const QByteArray &model = "chat")
{
    return "{\"model\":\"" + model + "\",\"max_tokens\":4" + (stream ? ",\"stream\":true" : "") +
           ",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"" + text + "\"}]}";
}

} // namespace CacheTest
