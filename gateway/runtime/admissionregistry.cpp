#include "admissionregistry.h"

#include <algorithm>
#include <limits>

namespace Gateway::Runtime {

namespace {

// The slot count of a queue whose group is no longer capped: nobody waits for a slot.
constexpr int UNCAPPED_SLOTS = std::numeric_limits<int>::max();

} // namespace

AdmissionRegistry::AdmissionRegistry() = default;
AdmissionRegistry::~AdmissionRegistry() = default;

QByteArray AdmissionRegistry::groupKey(std::vector<QByteArray> labels)
{
    std::sort(labels.begin(), labels.end());
    labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
    QByteArray key;
    for (const QByteArray &label : labels) {
        key += (key.isEmpty() ? "" : ",") + label;
    }
    return key;
}

Admission::QueueSettings AdmissionRegistry::settingsFor(const Config::AdmissionPolicy &policy, int slotCount)
{
    Admission::QueueSettings settings;
    settings.slotCount = slotCount;
    settings.maxQueued = policy.maxQueued;
    for (const Admission::PriorityClass priority : Admission::PRIORITY_CLASSES) {
        const Config::AdmissionClass &configured = policy.classes[Admission::classIndex(priority)];
        settings[priority] = Admission::ClassSettings {configured.ttftObjectiveMs, configured.maxQueueWaitMs, configured.weight};
    }
    return settings;
}

Admission::AdmissionQueue &AdmissionRegistry::queue(const QByteArray &group, const Admission::QueueSettings &settings,
                                                    qint64 nowMs)
{
    const QMutexLocker lock {&m_mutex};
    auto &entry = m_queues[group];
    if (!entry) {
        entry = std::make_unique<Admission::AdmissionQueue>(settings);
    } else {
        // Waiters keep their place; added slots are granted at once.
        entry->reconfigure(settings, nowMs);
    }
    return *entry;
}

void AdmissionRegistry::retainGroups(const std::vector<QByteArray> &groups, qint64 nowMs)
{
    const QMutexLocker lock {&m_mutex};
    for (auto &[group, queue] : m_queues) {
        if (std::find(groups.begin(), groups.end(), group) == groups.end()) {
            queue->setSlotCount(UNCAPPED_SLOTS, nowMs);
        }
    }
}

} // namespace Gateway::Runtime
