#pragma once

#include "priorityclass.h"

#include <QtGlobal>

#include <cstdint>
#include <memory>

namespace Gateway::Admission {

class QueueCore;

// One of a route's inference slots, held by a request from its admission until its
// answer is complete. Move-only; the slot is given back exactly once: by complete(),
// release() or, failing both, the destructor. Dropping a ticket anywhere (an exchange
// destroyed by a client disconnect, a queued callback discarded because its receiver is
// gone) therefore never leaks a slot.
//
// A ticket may be moved to and given back on any thread. It keeps the queue's state
// alive, so it may even outlive the AdmissionQueue that issued it (a configuration
// reload that replaced the queue); its release then only updates the old state.
// One ticket object must not be used by two threads at once.
class SlotTicket {
public:
    SlotTicket() = default;
    ~SlotTicket();
    SlotTicket(SlotTicket &&other) noexcept;
    SlotTicket &operator=(SlotTicket &&other) noexcept;
    SlotTicket(const SlotTicket &) = delete;
    SlotTicket &operator=(const SlotTicket &) = delete;

    // False for a default-constructed, moved-from or already released ticket.
    bool isValid() const { return m_core != nullptr; }
    PriorityClass priorityClass() const { return m_priority; }
    std::int64_t tokens() const { return m_tokens; } // what the request was charged
    qint64 grantedAtMs() const { return m_grantedAtMs; }

    // The upstream sent the first token: teaches the queue its service TTFT (slot granted
    // -> first token). Only the first call counts.
    void firstToken(qint64 nowMs);
    // The request finished normally: gives the slot back and teaches the queue its drain
    // rate from the tokens charged and the time the slot was held.
    void complete(qint64 nowMs);
    // Gives the slot back without teaching anything (failed, cancelled or abandoned
    // requests say nothing about throughput).
    void release(qint64 nowMs);

private:
    friend class QueueCore;
    SlotTicket(std::shared_ptr<QueueCore> core, PriorityClass priority, std::int64_t tokens, qint64 grantedAtMs,
               qint64 expectedFreeMs);

    // nowMs < 0: the latest time the queue has seen (the destructor has no clock).
    void giveBack(qint64 nowMs, bool completed);

    std::shared_ptr<QueueCore> m_core;
    PriorityClass m_priority = DEFAULT_PRIORITY_CLASS;
    std::int64_t m_tokens = 0;
    qint64 m_grantedAtMs = 0;
    qint64 m_expectedFreeMs = 0; // the queue's estimate at grant, its key for this ticket
    bool m_sawFirstToken = false;
};

} // namespace Gateway::Admission
