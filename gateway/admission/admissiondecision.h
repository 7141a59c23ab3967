#pragma once

#include "admissionmetrics.h"
#include "priorityclass.h"
#include "slotticket.h"
#include "waithandle.h"

#include <QString>

#include <cstdint>
#include <functional>

namespace Gateway::Admission {

// What the queue needs to know about a request (from the proxy's RequestSummary and the
// client's virtual key).
struct AdmissionRequest {
    PriorityClass priority = DEFAULT_PRIORITY_CLASS;
    // Fairness flow. Empty = keyless clients, who share one flow.
    QString virtualKey;
    // The key's fair-share weight; <= 0 uses the class's `weight`.
    double keyWeight = 0.0;
    // Expected tokens: prompt estimate + expected output (RequestSummary::expectedTokens()).
    // Both the fair-share cost and the unit of the drain-rate prediction; at least 1.
    std::int64_t tokens = 0;
    // Absolute time by which the client wants its first token (e.g. from a client
    // timeout header); 0 = none. The effective deadline is the earlier of this and
    // arrival + the class's ttft_objective_ms. It breaks ties in the fair order and is
    // what the prediction is checked against.
    qint64 deadlineMs = 0;
};

enum class Verdict : std::uint8_t {
    Granted,  // holds a slot: proxy it now
    Queued,   // waits; the callback will say Granted, Rejected or TimedOut
    Rejected, // answer 429 + Retry-After (refusal says why)
    TimedOut, // waited max_queue_wait_ms: answer 429 (or 503) + Retry-After
};

struct Refusal {
    RefusalReason reason = RefusalReason::None;
    int retryAfterSeconds = 0; // >= 1 whenever reason != None
};

// Delivered once to a queued request's callback.
struct WaitResult {
    Verdict verdict = Verdict::Rejected; // Granted, Rejected or TimedOut
    SlotTicket ticket;                   // valid when Granted
    Refusal refusal;                     // set when Rejected or TimedOut
    qint64 waitedMs = 0;                 // time spent in the queue
};

// Called exactly once for a queued request, unless WaitHandle::cancel() returned true
// first. It runs on whichever thread resolved the wait (the one that released a slot or
// called expire()), with no queue lock held, possibly before admit() has returned to
// the caller. It must not block: post the result to the request's own thread, e.g.
//
//     [context](WaitResult result) {
//         QMetaObject::invokeMethod(context, [result = std::move(result)]() mutable { ... },
//                                   Qt::QueuedConnection);
//     }
//
// where `context` outlives the callback (the handle's cancel() guarantees that) and
// deleting it discards the posted call, whose ticket then gives its slot back.
using WaitCallback = std::function<void(WaitResult)>;

// What admit() answers at once.
struct AdmitResult {
    Verdict verdict = Verdict::Rejected; // Granted, Queued or Rejected
    SlotTicket ticket;                   // valid when Granted
    WaitHandle handle;                   // valid when Queued: keep it while waiting
    Refusal refusal;                     // set when Rejected
    // When queued or refused for it: predicted ms from arrival to the first token;
    // -1 = no prediction (nothing learned yet).
    qint64 predictedTtftMs = -1;
};

} // namespace Gateway::Admission
