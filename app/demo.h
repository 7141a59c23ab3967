#pragma once

#include "config/policy.h"
#include "util/expected.h"

#include <QString>

#include <memory>
#include <vector>

namespace Gateway::Sim {
class FleetServer;
class SimulatedUpstream;
}

namespace App {

// The embedded demo: two simulated vLLM GPU servers (fleet mode: the fleet simulator's
// engine model in real time, routed by prefix_aware from their /metrics), a flaky
// simulated cloud provider (429 with Retry-After, occasional 500) and a simulated
// Anthropic endpoint, plus a policy that routes to them. Lets anyone see Switchyard work
// with no provider keys or GPUs. Clients present one of the demo's virtual keys, so the
// budgets view has teams and keys to show: the generated traffic spends on
// "research-agent" (team "research", a token budget it burns through in about an hour,
// so its projected exhaustion is an alert from the start) and "support-bot"; "playground" (no budget) is for the operator's own requests.
class Demo final {
public:
    Demo();
    ~Demo();
    Demo(const Demo &) = delete;
    Demo &operator=(const Demo &) = delete;

    // Starts the simulated upstreams on free loopback ports and returns the policy.
    Gateway::Expected<Gateway::Config::Policy, QString> start();

    // Ready-to-paste commands for the running gateway.
    static QString instructions(const QString &baseUrl);

    static constexpr const char *PlaygroundKey = "sk-demo-playground";
    // The keys the generated traffic uses, in the proportions it uses them.
    static QList<QByteArray> trafficKeys();

private:
    std::vector<std::unique_ptr<Gateway::Sim::FleetServer>> m_gpuServers;
    std::vector<std::unique_ptr<Gateway::Sim::SimulatedUpstream>> m_upstreams;
};

} // namespace App
