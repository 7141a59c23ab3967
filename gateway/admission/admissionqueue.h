#pragma once

#include "admissiondecision.h"
#include "admissionmetrics.h"
#include "queuesettings.h"

#include <QtGlobal>

#include <cstdint>
#include <memory>
#include <optional>

namespace Gateway::Admission {

class QueueCore;

// Gateway-side admission for one group of GPU targets: when every slot (the sum of the
// targets' max_concurrency) is taken, requests wait here, in order, instead of piling
// onto a saturated GPU; and a request that would miss its time-to-first-token objective
// is refused at once with a Retry-After instead of timing out later.
//
// One queue per target group, not per route. A group is the set of targets a request
// may be sent to; the proxy keys queues by it, so two routes (model aliases) over the
// same GPUs share one queue and a GPU's concurrency cap is not counted twice. The queue
// only decides *whether* a request may go now; the routing policy still picks *which*
// target once it holds a slot.
//
// Order. Classes strictly (interactive, standard, batch); within a class, start-time fair
// queuing on expected tokens across virtual keys (FairShare), the effective deadline
// breaking ties, then arrival.
//
// Refusals, each with Retry-After >= 1 s:
// - PredictedMiss: predicted TTFT = waited + forecast start + service TTFT is past the
//   request's deadline. The forecast replays the waiters ahead in the order onto the
//   slots' expected free times (SlotForecast), with hold times learned from completions
//   (DrainEstimator): "tokens ahead / drain rate" on average. Checked on arrival, and
//   again for every waiter on each arrival and each expire(): when higher classes (or
//   lighter keys) move ahead of a waiter, it is refused as soon as it is bound to miss.
//   Lower classes are behind everything, so under overload batch goes first, then
//   standard; interactive is refused only when interactive demand alone exceeds the group.
// - QueueFull / Evicted: the queue holds max_queued requests. A newcomer evicts the last
//   waiter of the lowest class below its own, or is refused when there is none.
// - MaxWait (verdict TimedOut): waited max_queue_wait_ms, the bound that holds when the
//   prediction cannot (nothing learned yet).
// Retry-After is the predicted excess over the deadline, or the time the backlog of the
// request's class and above needs to drain, and 1 s when nothing is known.
//
// Time is never read: every call takes the caller's monotonic nowMs. The caller arms one
// timer for nextDeadlineMs() and calls expire() when it fires (and re-arms after every
// admit and expire).
//
// Thread safety: every method may be called from any thread; one mutex guards the state
// and is never held while a callback runs. admit() is O(log slots) when a slot is free,
// and O(slots + depth x log slots) when it has to queue (the forecast pass), as is
// expire(); max_queued bounds depth.
class AdmissionQueue {
public:
    explicit AdmissionQueue(const QueueSettings &settings);
    // Every waiter is refused (Shutdown) through its callback; tickets still held stay
    // valid and are released harmlessly.
    ~AdmissionQueue();
    AdmissionQueue(const AdmissionQueue &) = delete;
    AdmissionQueue &operator=(const AdmissionQueue &) = delete;
    AdmissionQueue(AdmissionQueue &&) = delete;
    AdmissionQueue &operator=(AdmissionQueue &&) = delete;

    // Never blocks and answers at once: Granted (with a ticket), Queued (with a handle to
    // keep; `onResolved` is then called once later) or Rejected. `onResolved` is unused
    // unless the request is queued.
    [[nodiscard]] AdmitResult admit(const AdmissionRequest &request, WaitCallback onResolved, qint64 nowMs);

    // Times out the waiters whose max wait has passed (by nowMs) and refuses those now
    // predicted to miss their deadline. Callbacks run before it returns.
    void expire(qint64 nowMs);
    // Earliest time a waiter reaches its max wait; nothing when nobody waits.
    std::optional<qint64> nextDeadlineMs() const;

    // Applies new settings (a configuration reload, or a target whose circuit opened or
    // closed). Waiters keep their place and deadlines; added slots are granted at once;
    // removed ones disappear as tickets come back. Invalid class settings keep the
    // defaults of that class (the configuration loader reports them first).
    void reconfigure(const QueueSettings &settings, qint64 nowMs);
    void setSlotCount(int slotCount, qint64 nowMs); // the rest of the settings unchanged
    QueueSettings settings() const;

    // Observations from outside the tickets, e.g. to seed a new queue with what the
    // previous one learned: a completion that held a slot `holdMs` for `tokens` charged
    // tokens, and a service TTFT (slot granted -> first token).
    void recordCompletion(std::int64_t tokens, qint64 holdMs);
    void recordServiceTtft(double ttftMs);

    QueueMetrics metrics() const;

private:
    // Shared with the tickets and handles it issued, which may outlive the queue.
    std::shared_ptr<QueueCore> m_core;
};

} // namespace Gateway::Admission
