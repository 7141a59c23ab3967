#pragma once

// Internal to the admission library: the state behind AdmissionQueue, shared with the
// tickets and handles it issued. Use AdmissionQueue.

#include "admissiondecision.h"
#include "admissionmetrics.h"
#include "drainestimator.h"
#include "fairshare.h"
#include "queuesettings.h"
#include "slotforecast.h"

#include <QString>

#include <array>
#include <compare>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

namespace Gateway::Admission {

// A waiter's place within its class: fair-share start tag, then deadline, then arrival.
struct OrderKey {
    double start = 0.0;
    qint64 deadlineMs = 0;
    std::uint64_t seq = 0;

    auto operator<=>(const OrderKey &) const = default;
};

// One queued request. Its fields up to `queued` are guarded by the queue's mutex; the
// delivery fields by deliveryMutex, which is what lets cancel() and a delivery on
// another thread agree on whether the callback runs.
struct WaiterState {
    PriorityClass priority = DEFAULT_PRIORITY_CLASS;
    std::int64_t tokens = 0;
    qint64 enqueuedMs = 0;
    qint64 expiresMs = 0;
    OrderKey order;
    bool queued = false;

    std::mutex deliveryMutex;
    std::condition_variable deliveryDone;
    WaitCallback callback; // taken by the delivery or cleared by cancel()
    bool delivered = false; // the callback was taken to be run
    bool delivering = false;
    std::thread::id deliveringThread;
};

// A resolved wait on its way to the waiter's callback.
struct PendingDelivery {
    std::shared_ptr<WaiterState> waiter;
    WaitResult result;
};

class QueueCore : public std::enable_shared_from_this<QueueCore> {
public:
    explicit QueueCore(const QueueSettings &settings);

    AdmitResult admit(const AdmissionRequest &request, WaitCallback onResolved, qint64 nowMs);
    void expire(qint64 nowMs);
    std::optional<qint64> nextDeadlineMs() const;
    void reconfigure(const QueueSettings &settings, qint64 nowMs);
    void setSlotCount(int slotCount, qint64 nowMs);
    QueueSettings settings() const;
    // Refuses every waiter (Shutdown) and every later admit().
    void shutdown();

    void recordCompletion(std::int64_t tokens, qint64 holdMs);
    void recordServiceTtft(double ttftMs);
    QueueMetrics metrics() const;

    // From SlotTicket: nowMs < 0 = the latest time seen.
    void releaseSlot(std::int64_t tokens, qint64 grantedAtMs, qint64 expectedFreeMs, qint64 nowMs, bool completed);
    // From WaitHandle.
    bool cancel(const std::shared_ptr<WaiterState> &waiter);

private:
    using Deliveries = std::vector<PendingDelivery>;

    struct ClassQueue {
        std::map<OrderKey, std::shared_ptr<WaiterState>> waiting;
        std::int64_t tokens = 0; // expected tokens of the waiting requests
        FairShare fair;
    };

    static QueueSettings sanitized(const QueueSettings &settings);
    // Runs the callbacks, outside every queue lock.
    static void deliver(Deliveries &&deliveries);
    static void deliverOne(PendingDelivery &delivery);

    // The methods below require m_mutex.
    void noteTimeLocked(qint64 nowMs);
    ClassQueue &queueOf(PriorityClass priority) { return m_classes[classIndex(priority)]; }
    ClassMetrics &metricsOf(PriorityClass priority) { return m_metrics[classIndex(priority)]; }
    void insertLocked(const std::shared_ptr<WaiterState> &waiter);
    void removeLocked(const std::shared_ptr<WaiterState> &waiter);
    // Takes a slot for a request charged `tokens` at nowMs.
    SlotTicket grantLocked(PriorityClass priority, std::int64_t tokens, qint64 nowMs);
    bool canPredictLocked() const;
    SlotForecast forecastLocked(qint64 nowMs) const;
    // Predicted ms from now to the first token of a request of `priority` placed at
    // `order`, behind every waiter before it; only when canPredictLocked().
    double predictedTtftLocked(PriorityClass priority, const OrderKey &order, qint64 nowMs) const;
    // Retry-After for a request of `priority` refused without a prediction of its own:
    // the time to drain the backlog of its class and the classes above.
    int backlogRetryAfterLocked(PriorityClass priority) const;
    // The waiter a full queue gives up for a newcomer of `priority`: the last of the
    // lowest class below it; null when none.
    std::shared_ptr<WaiterState> evictionVictimLocked(PriorityClass priority) const;
    void refuseLocked(const std::shared_ptr<WaiterState> &waiter, Verdict verdict, Refusal refusal, qint64 nowMs,
                      Deliveries &out);
    void grantWaitersLocked(qint64 nowMs, Deliveries &out);
    void shedPredictedMissesLocked(qint64 nowMs, Deliveries &out);

    mutable std::mutex m_mutex;
    QueueSettings m_settings;
    std::array<ClassQueue, PRIORITY_CLASS_COUNT> m_classes;
    std::array<ClassMetrics, PRIORITY_CLASS_COUNT> m_metrics;
    // Max-wait expiry of every waiter: (expiresMs, seq) -> waiter.
    std::map<std::pair<qint64, std::uint64_t>, std::shared_ptr<WaiterState>> m_expiry;
    DrainEstimator m_drain;
    // Expected finish of every ticket in use, as estimated at its grant (the grant time
    // itself while nothing is learned: "may free any moment").
    std::multiset<qint64> m_expectedFrees;
    int m_inUse = 0;
    int m_waiting = 0;
    std::uint64_t m_nextSeq = 0;
    qint64 m_lastNowMs = 0;
    bool m_shutdown = false;
};

} // namespace Gateway::Admission
