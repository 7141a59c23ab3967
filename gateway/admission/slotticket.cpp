#include "slotticket.h"

#include "queuecore.h"

#include <utility>

namespace Gateway::Admission {

SlotTicket::SlotTicket(std::shared_ptr<QueueCore> core, PriorityClass priority, std::int64_t tokens, qint64 grantedAtMs,
                       qint64 expectedFreeMs)
    : m_core {std::move(core)}
    , m_priority {priority}
    , m_tokens {tokens}
    , m_grantedAtMs {grantedAtMs}
    , m_expectedFreeMs {expectedFreeMs}
{
}

SlotTicket::~SlotTicket()
{
    giveBack(-1, false);
}

SlotTicket::SlotTicket(SlotTicket &&other) noexcept
    : m_core {std::exchange(other.m_core, nullptr)}
    , m_priority {other.m_priority}
    , m_tokens {other.m_tokens}
    , m_grantedAtMs {other.m_grantedAtMs}
    , m_expectedFreeMs {other.m_expectedFreeMs}
    , m_sawFirstToken {other.m_sawFirstToken}
{
}

SlotTicket &SlotTicket::operator=(SlotTicket &&other) noexcept
{
    if (this != &other) {
        giveBack(-1, false);
        m_core = std::exchange(other.m_core, nullptr);
        m_priority = other.m_priority;
        m_tokens = other.m_tokens;
        m_grantedAtMs = other.m_grantedAtMs;
        m_expectedFreeMs = other.m_expectedFreeMs;
        m_sawFirstToken = other.m_sawFirstToken;
    }
    return *this;
}

void SlotTicket::firstToken(qint64 nowMs)
{
    if (!m_core || m_sawFirstToken) {
        return;
    }
    m_sawFirstToken = true;
    m_core->recordServiceTtft(static_cast<double>(nowMs - m_grantedAtMs));
}

void SlotTicket::complete(qint64 nowMs)
{
    giveBack(nowMs, true);
}

void SlotTicket::release(qint64 nowMs)
{
    giveBack(nowMs, false);
}

void SlotTicket::giveBack(qint64 nowMs, bool completed)
{
    // Emptied first: the release may run callbacks that reach this ticket again.
    if (const std::shared_ptr<QueueCore> core = std::exchange(m_core, nullptr)) {
        core->releaseSlot(m_tokens, m_grantedAtMs, m_expectedFreeMs, nowMs, completed);
    }
}

} // namespace Gateway::Admission
