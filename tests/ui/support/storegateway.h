#pragma once

#include "testhttpclient.h"

#include <QByteArray>
#include <QTemporaryDir>

#include <memory>
#include <mutex>

namespace Gateway {
class GatewayRuntime;
namespace Sim {
class SimulatedUpstream;
}
}

namespace Storage {
class LogWriter;
class PolicyService;
}

namespace UiTest {

// A real gateway with its SQLite store in a temporary directory and two simulated
// upstreams (providers "a" and "b"), wired as app/main.cpp wires them: the store applies
// new versions to the running gateway. For widget tests that must show a change reaching
// SQLite and then the data plane.
class StoreGateway final {
public:
    StoreGateway();
    ~StoreGateway();
    StoreGateway(const StoreGateway &) = delete;
    StoreGateway &operator=(const StoreGateway &) = delete;

    // Starts everything with policyYaml("1", extra) stored as version 1. False on failure
    // (the reason is logged with qWarning).
    bool start(const QByteArray &extra = {});

    // Route "chat" over a/ma (weight 1) and b/mb (weight `secondWeight`), plus `extra`
    // appended: indented, more routes; at column 0, more top-level sections.
    QByteArray policyYaml(const QByteArray &secondWeight = "1", const QByteArray &extra = {}) const;

    Storage::PolicyService &store() { return *m_store; }
    Storage::LogWriter &log() { return *m_log; }
    Gateway::GatewayRuntime &gateway() { return *m_gateway; }

    // One chat completion through the gateway, waiting for its answer.
    TestSupport::TestHttpClient::Response chat(const QByteArray &model, const QByteArray &key = {});
    // Number of stored policy versions, read through the store.
    int versionCount();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Gateway::Sim::SimulatedUpstream> m_a;
    std::unique_ptr<Gateway::Sim::SimulatedUpstream> m_b;
    std::unique_ptr<Storage::LogWriter> m_log;
    std::unique_ptr<Storage::PolicyService> m_store;
    std::unique_ptr<Gateway::GatewayRuntime> m_gateway;
    std::mutex m_runningMutex;
    Gateway::GatewayRuntime *m_running = nullptr;
};

} // namespace UiTest
