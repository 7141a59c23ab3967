#pragma once

#include "admission/admissionqueue.h"
#include "config/policy.h"

#include <QByteArray>
#include <QMutex>

#include <map>
#include <memory>
#include <vector>

namespace Gateway::Runtime {

// The gateway's admission queues for the life of the process, one per capped target
// group. A group is the set of servers a route sends to, keyed by their sorted backend
// labels, so two routes (model aliases) over the same GPUs share one queue and a server's
// cap is not counted twice. Queues are found by key when a policy is compiled and
// reconfigured in place, so their waiters, the slots held and what they learned (drain
// rate, service time to first token) survive configuration changes; a queue is never
// destroyed before the registry, so tables still in use keep valid pointers.
//
// Nothing here runs a timer: each waiting request's exchange arms its own for its max
// wait and calls expire() on its queue (see ProxyExchange), so an idle gateway never
// wakes up for admission control.
class AdmissionRegistry final {
public:
    AdmissionRegistry();
    ~AdmissionRegistry();
    AdmissionRegistry(const AdmissionRegistry &) = delete;
    AdmissionRegistry &operator=(const AdmissionRegistry &) = delete;

    // The key of a group: its distinct backend labels ("provider/model"), sorted, joined
    // by ','. Also the `group` label of the queue metrics.
    static QByteArray groupKey(std::vector<QByteArray> labels);
    // The queue settings of a group with `slotCount` slots under `policy`.
    static Admission::QueueSettings settingsFor(const Config::AdmissionPolicy &policy, int slotCount);

    // The queue of `group`, created with `settings` or reconfigured to them.
    Admission::AdmissionQueue &queue(const QByteArray &group, const Admission::QueueSettings &settings, qint64 nowMs);
    // Groups no longer capped (or no longer configured) have no queue in the new policy:
    // their queues let every waiter through, as the policy now would. A group capped
    // again later gets its queue back with its new slot count.
    void retainGroups(const std::vector<QByteArray> &groups, qint64 nowMs);

private:
    mutable QMutex m_mutex;
    std::map<QByteArray, std::unique_ptr<Admission::AdmissionQueue>> m_queues;
};

} // namespace Gateway::Runtime
