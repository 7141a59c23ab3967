#include "admissionqueue.h"

#include "queuecore.h"

#include <utility>

namespace Gateway::Admission {

AdmissionQueue::AdmissionQueue(const QueueSettings &settings)
    : m_core {std::make_shared<QueueCore>(settings)}
{
}

AdmissionQueue::~AdmissionQueue()
{
    m_core->shutdown();
}

AdmitResult AdmissionQueue::admit(const AdmissionRequest &request, WaitCallback onResolved, qint64 nowMs)
{
    return m_core->admit(request, std::move(onResolved), nowMs);
}

void AdmissionQueue::expire(qint64 nowMs)
{
    m_core->expire(nowMs);
}

std::optional<qint64> AdmissionQueue::nextDeadlineMs() const
{
    return m_core->nextDeadlineMs();
}

void AdmissionQueue::reconfigure(const QueueSettings &settings, qint64 nowMs)
{
    m_core->reconfigure(settings, nowMs);
}

void AdmissionQueue::setSlotCount(int slotCount, qint64 nowMs)
{
    m_core->setSlotCount(slotCount, nowMs);
}

QueueSettings AdmissionQueue::settings() const
{
    return m_core->settings();
}

void AdmissionQueue::recordCompletion(std::int64_t tokens, qint64 holdMs)
{
    m_core->recordCompletion(tokens, holdMs);
}

void AdmissionQueue::recordServiceTtft(double ttftMs)
{
    m_core->recordServiceTtft(ttftMs);
}

QueueMetrics AdmissionQueue::metrics() const
{
    return m_core->metrics();
}

} // namespace Gateway::Admission
