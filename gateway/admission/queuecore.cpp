#include "queuecore.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <iterator>

namespace Gateway::Admission {

namespace {

// Deliveries that callbacks cause on the same thread (a callback that drops its ticket
// grants the next waiter; a ticket discarded because its waiter cancelled does the same)
// are appended to the outermost deliver() loop of that thread instead of recursing, so
// a long queue cannot grow the stack. Per thread, not global: each thread only ever
// runs its own deliveries.
thread_local std::deque<PendingDelivery> *t_pendingDeliveries = nullptr;

class PendingDeliveriesScope {
public:
    explicit PendingDeliveriesScope(std::deque<PendingDelivery> &pending) { t_pendingDeliveries = &pending; }
    ~PendingDeliveriesScope() { t_pendingDeliveries = nullptr; }
    PendingDeliveriesScope(const PendingDeliveriesScope &) = delete;
    PendingDeliveriesScope &operator=(const PendingDeliveriesScope &) = delete;
};

std::int64_t chargedTokens(std::int64_t tokens)
{
    return std::max<std::int64_t>(1, tokens);
}

} // namespace

QueueCore::QueueCore(const QueueSettings &settings)
    : m_settings {sanitized(settings)}
{
}

QueueSettings QueueCore::sanitized(const QueueSettings &settings)
{
    QueueSettings clean = settings;
    clean.slotCount = std::max(0, clean.slotCount);
    clean.maxQueued = std::max(0, clean.maxQueued);
    for (const PriorityClass priority : PRIORITY_CLASSES) {
        if (classSettingsError(priority, clean[priority])) {
            clean[priority] = defaultClassSettings(priority);
        }
    }
    return clean;
}

AdmitResult QueueCore::admit(const AdmissionRequest &request, WaitCallback onResolved, qint64 nowMs)
{
    AdmitResult result;
    Deliveries deliveries;
    {
        std::lock_guard lock {m_mutex};
        noteTimeLocked(nowMs);
        const PriorityClass priority = request.priority;
        const ClassSettings &settings = m_settings[priority];
        ClassQueue &queue = queueOf(priority);
        ClassMetrics &metrics = metricsOf(priority);
        if (m_shutdown) {
            result.refusal = Refusal {RefusalReason::Shutdown, 1};
            ++metrics.shedOnArrival;
            ++metrics.shedByReason[static_cast<std::size_t>(RefusalReason::Shutdown)];
            return result;
        }

        const std::int64_t tokens = chargedTokens(request.tokens);
        const bool ownWeight = request.keyWeight > 0.0 && std::isfinite(request.keyWeight);
        const double weight = ownWeight ? request.keyWeight : settings.weight;
        const FairShare::Tag tag = queue.fair.tagFor(request.virtualKey, tokens, weight);

        // Slots are handed to waiters the moment they free up, so a free slot means that
        // nobody is waiting: taking it jumps no one.
        if (m_inUse < m_settings.slotCount) {
            queue.fair.charge(request.virtualKey, tag);
            queue.fair.started(tag.start);
            ++metrics.grantedAtOnce;
            metrics.wait.record(0);
            result.verdict = Verdict::Granted;
            result.ticket = grantLocked(priority, tokens, nowMs);
            return result;
        }

        const qint64 objectiveDeadline = nowMs + settings.ttftObjectiveMs;
        const qint64 deadline =
            request.deadlineMs > 0 ? std::min(request.deadlineMs, objectiveDeadline) : objectiveDeadline;
        const OrderKey order {tag.start, deadline, m_nextSeq++};
        if (canPredictLocked()) {
            const double predictedMs = predictedTtftLocked(priority, order, nowMs);
            result.predictedTtftMs = std::llround(predictedMs);
            const double lateByMs = static_cast<double>(nowMs) + predictedMs - static_cast<double>(deadline);
            if (lateByMs > 0.0) {
                result.refusal = Refusal {RefusalReason::PredictedMiss, retryAfterSeconds(lateByMs)};
                ++metrics.shedOnArrival;
                ++metrics.shedByReason[static_cast<std::size_t>(RefusalReason::PredictedMiss)];
                return result;
            }
        }
        if (m_waiting >= m_settings.maxQueued) {
            const std::shared_ptr<WaiterState> victim = evictionVictimLocked(priority);
            if (!victim) {
                result.refusal = Refusal {RefusalReason::QueueFull, backlogRetryAfterLocked(priority)};
                ++metrics.shedOnArrival;
                ++metrics.shedByReason[static_cast<std::size_t>(RefusalReason::QueueFull)];
                return result;
            }
            removeLocked(victim);
            refuseLocked(victim, Verdict::Rejected,
                         Refusal {RefusalReason::Evicted, backlogRetryAfterLocked(victim->priority)}, nowMs,
                         deliveries);
        }

        auto waiter = std::make_shared<WaiterState>();
        waiter->priority = priority;
        waiter->tokens = tokens;
        waiter->enqueuedMs = nowMs;
        waiter->expiresMs = nowMs + settings.maxQueueWaitMs;
        waiter->order = order;
        waiter->callback = std::move(onResolved);
        queue.fair.charge(request.virtualKey, tag);
        insertLocked(waiter);
        ++metrics.queued;
        result.verdict = Verdict::Queued;
        result.handle = WaitHandle(shared_from_this(), waiter);
        // The newcomer may have moved ahead of waiters (a higher class, a lighter key)
        // that are now bound to miss their deadline: tell them now.
        shedPredictedMissesLocked(nowMs, deliveries);
    }
    deliver(std::move(deliveries));
    return result;
}

void QueueCore::expire(qint64 nowMs)
{
    Deliveries deliveries;
    {
        std::lock_guard lock {m_mutex};
        noteTimeLocked(nowMs);
        while (!m_expiry.empty() && m_expiry.begin()->first.first <= nowMs) {
            const std::shared_ptr<WaiterState> waiter = m_expiry.begin()->second;
            removeLocked(waiter);
            refuseLocked(waiter, Verdict::TimedOut,
                         Refusal {RefusalReason::MaxWait, backlogRetryAfterLocked(waiter->priority)}, nowMs,
                         deliveries);
        }
        shedPredictedMissesLocked(nowMs, deliveries);
    }
    deliver(std::move(deliveries));
}

std::optional<qint64> QueueCore::nextDeadlineMs() const
{
    std::lock_guard lock {m_mutex};
    if (m_expiry.empty()) {
        return std::nullopt;
    }
    return m_expiry.begin()->first.first;
}

void QueueCore::reconfigure(const QueueSettings &settings, qint64 nowMs)
{
    Deliveries deliveries;
    {
        std::lock_guard lock {m_mutex};
        noteTimeLocked(nowMs);
        m_settings = sanitized(settings);
        grantWaitersLocked(nowMs, deliveries);
    }
    deliver(std::move(deliveries));
}

void QueueCore::setSlotCount(int slotCount, qint64 nowMs)
{
    Deliveries deliveries;
    {
        std::lock_guard lock {m_mutex};
        noteTimeLocked(nowMs);
        m_settings.slotCount = std::max(0, slotCount);
        grantWaitersLocked(nowMs, deliveries);
    }
    deliver(std::move(deliveries));
}

QueueSettings QueueCore::settings() const
{
    std::lock_guard lock {m_mutex};
    return m_settings;
}

void QueueCore::shutdown()
{
    Deliveries deliveries;
    {
        std::lock_guard lock {m_mutex};
        m_shutdown = true;
        while (!m_expiry.empty()) {
            const std::shared_ptr<WaiterState> waiter = m_expiry.begin()->second;
            removeLocked(waiter);
            refuseLocked(waiter, Verdict::Rejected, Refusal {RefusalReason::Shutdown, 1}, m_lastNowMs, deliveries);
        }
    }
    deliver(std::move(deliveries));
}

void QueueCore::recordCompletion(std::int64_t tokens, qint64 holdMs)
{
    std::lock_guard lock {m_mutex};
    m_drain.observeCompletion(tokens, holdMs);
}

void QueueCore::recordServiceTtft(double ttftMs)
{
    std::lock_guard lock {m_mutex};
    m_drain.observeServiceTtft(ttftMs);
}

QueueMetrics QueueCore::metrics() const
{
    std::lock_guard lock {m_mutex};
    QueueMetrics snapshot;
    snapshot.classes = m_metrics;
    for (const PriorityClass priority : PRIORITY_CLASSES) {
        const ClassQueue &queue = m_classes[classIndex(priority)];
        ClassMetrics &metrics = snapshot.classes[classIndex(priority)];
        metrics.depth = static_cast<int>(queue.waiting.size());
        metrics.queuedTokens = queue.tokens;
    }
    snapshot.slotCount = m_settings.slotCount;
    snapshot.inUse = m_inUse;
    snapshot.drainTokensPerSecond = m_drain.slotTokensPerSecond() * m_settings.slotCount;
    snapshot.serviceTtftMs = m_drain.serviceTtftMs();
    return snapshot;
}

void QueueCore::releaseSlot(std::int64_t tokens, qint64 grantedAtMs, qint64 expectedFreeMs, qint64 nowMs,
                            bool completed)
{
    Deliveries deliveries;
    {
        std::lock_guard lock {m_mutex};
        if (nowMs < 0) {
            nowMs = m_lastNowMs;
        } else {
            noteTimeLocked(nowMs);
        }
        if (completed) {
            m_drain.observeCompletion(tokens, nowMs - grantedAtMs);
        }
        // Never below zero, whatever happens to tickets issued before a reconfigure.
        m_inUse = std::max(0, m_inUse - 1);
        if (const auto it = m_expectedFrees.find(expectedFreeMs); it != m_expectedFrees.end()) {
            m_expectedFrees.erase(it);
        }
        grantWaitersLocked(nowMs, deliveries);
    }
    deliver(std::move(deliveries));
}

bool QueueCore::cancel(const std::shared_ptr<WaiterState> &waiter)
{
    {
        std::lock_guard lock {m_mutex};
        if (waiter->queued) {
            removeLocked(waiter);
            ++metricsOf(waiter->priority).cancelled;
        }
    }
    WaitCallback dropped;
    std::unique_lock deliveryLock {waiter->deliveryMutex};
    const bool prevented = !waiter->delivered;
    dropped = std::move(waiter->callback);
    waiter->callback = nullptr;
    // A callback that cancels its own handle must not wait for itself.
    if (waiter->delivering && waiter->deliveringThread != std::this_thread::get_id()) {
        waiter->deliveryDone.wait(deliveryLock, [&waiter] { return !waiter->delivering; });
    }
    deliveryLock.unlock();
    // `dropped` (and whatever it captured) is destroyed here, outside every lock.
    return prevented;
}

void QueueCore::deliver(Deliveries &&deliveries)
{
    if (deliveries.empty()) {
        return;
    }
    if (t_pendingDeliveries) {
        std::move(deliveries.begin(), deliveries.end(), std::back_inserter(*t_pendingDeliveries));
        return;
    }
    std::deque<PendingDelivery> pending {std::make_move_iterator(deliveries.begin()),
                                         std::make_move_iterator(deliveries.end())};
    const PendingDeliveriesScope scope {pending};
    while (!pending.empty()) {
        PendingDelivery delivery = std::move(pending.front());
        pending.pop_front();
        deliverOne(delivery);
        // A result nobody took (its waiter cancelled meanwhile) is destroyed here: its
        // ticket gives the slot back, which appends the next grant to `pending`.
    }
}

void QueueCore::deliverOne(PendingDelivery &delivery)
{
    WaiterState &waiter = *delivery.waiter;
    WaitCallback callback;
    {
        std::lock_guard lock {waiter.deliveryMutex};
        if (!waiter.callback) {
            return;
        }
        callback = std::move(waiter.callback);
        waiter.callback = nullptr;
        waiter.delivered = true;
        waiter.delivering = true;
        waiter.deliveringThread = std::this_thread::get_id();
    }
    callback(std::move(delivery.result));
    // Destroyed before a concurrent cancel() is released, so that once cancel() returns
    // nothing the callback captured is touched any more.
    callback = nullptr;
    {
        std::lock_guard lock {waiter.deliveryMutex};
        waiter.delivering = false;
    }
    waiter.deliveryDone.notify_all();
}

void QueueCore::noteTimeLocked(qint64 nowMs)
{
    m_lastNowMs = std::max(m_lastNowMs, nowMs);
}

void QueueCore::insertLocked(const std::shared_ptr<WaiterState> &waiter)
{
    ClassQueue &queue = queueOf(waiter->priority);
    queue.waiting.emplace(waiter->order, waiter);
    queue.tokens += waiter->tokens;
    m_expiry.emplace(std::pair {waiter->expiresMs, waiter->order.seq}, waiter);
    waiter->queued = true;
    ++m_waiting;
}

void QueueCore::removeLocked(const std::shared_ptr<WaiterState> &waiter)
{
    ClassQueue &queue = queueOf(waiter->priority);
    queue.waiting.erase(waiter->order);
    queue.tokens -= waiter->tokens;
    m_expiry.erase(std::pair {waiter->expiresMs, waiter->order.seq});
    waiter->queued = false;
    --m_waiting;
}

SlotTicket QueueCore::grantLocked(PriorityClass priority, std::int64_t tokens, qint64 nowMs)
{
    ++m_inUse;
    const double holdMs = m_drain.expectedHoldMs(tokens);
    const qint64 expectedFreeMs = nowMs + (holdMs > 0.0 ? std::llround(holdMs) : 0);
    m_expectedFrees.insert(expectedFreeMs);
    return SlotTicket(shared_from_this(), priority, tokens, nowMs, expectedFreeMs);
}

bool QueueCore::canPredictLocked() const
{
    return m_drain.knowsDrainRate() && m_settings.slotCount > 0;
}

SlotForecast QueueCore::forecastLocked(qint64 nowMs) const
{
    return SlotForecast(m_expectedFrees, m_settings.slotCount, nowMs);
}

double QueueCore::predictedTtftLocked(PriorityClass priority, const OrderKey &order, qint64 nowMs) const
{
    SlotForecast forecast = forecastLocked(nowMs);
    for (const PriorityClass ahead : PRIORITY_CLASSES) {
        for (const auto &[key, waiter] : m_classes[classIndex(ahead)].waiting) {
            if (ahead == priority && !(key < order)) {
                break;
            }
            forecast.take(m_drain.expectedHoldMs(waiter->tokens));
        }
        if (ahead == priority) {
            break;
        }
    }
    return forecast.nextStartMs() + m_drain.serviceTtftMs();
}

int QueueCore::backlogRetryAfterLocked(PriorityClass priority) const
{
    std::int64_t backlog = 0;
    for (const PriorityClass higher : PRIORITY_CLASSES) {
        backlog += m_classes[classIndex(higher)].tokens;
        if (higher == priority) {
            break;
        }
    }
    // Unknown drain rate: -1, which retryAfterSeconds() turns into the minimum.
    return retryAfterSeconds(m_drain.drainMs(backlog, m_settings.slotCount));
}

std::shared_ptr<WaiterState> QueueCore::evictionVictimLocked(PriorityClass priority) const
{
    for (auto it = PRIORITY_CLASSES.rbegin(); it != PRIORITY_CLASSES.rend() && *it != priority; ++it) {
        const auto &waiting = m_classes[classIndex(*it)].waiting;
        if (!waiting.empty()) {
            return std::prev(waiting.end())->second;
        }
    }
    return nullptr;
}

void QueueCore::refuseLocked(const std::shared_ptr<WaiterState> &waiter, Verdict verdict, Refusal refusal,
                             qint64 nowMs, Deliveries &out)
{
    ClassMetrics &metrics = metricsOf(waiter->priority);
    if (verdict == Verdict::TimedOut) {
        ++metrics.timedOut;
    } else {
        ++metrics.shedWhileQueued;
        ++metrics.shedByReason[static_cast<std::size_t>(refusal.reason)];
    }
    WaitResult result;
    result.verdict = verdict;
    result.refusal = refusal;
    result.waitedMs = std::max<qint64>(0, nowMs - waiter->enqueuedMs);
    out.push_back(PendingDelivery {waiter, std::move(result)});
}

void QueueCore::grantWaitersLocked(qint64 nowMs, Deliveries &out)
{
    while (m_inUse < m_settings.slotCount && m_waiting > 0) {
        auto classIt = std::find_if(m_classes.begin(), m_classes.end(),
                                    [](const ClassQueue &queue) { return !queue.waiting.empty(); });
        ClassQueue &queue = *classIt;
        const std::shared_ptr<WaiterState> waiter = queue.waiting.begin()->second;
        queue.fair.started(waiter->order.start);
        removeLocked(waiter);
        const qint64 waitedMs = std::max<qint64>(0, nowMs - waiter->enqueuedMs);
        ClassMetrics &metrics = metricsOf(waiter->priority);
        ++metrics.grantedFromQueue;
        metrics.wait.record(waitedMs);
        WaitResult result;
        result.verdict = Verdict::Granted;
        result.ticket = grantLocked(waiter->priority, waiter->tokens, nowMs);
        result.waitedMs = waitedMs;
        out.push_back(PendingDelivery {waiter, std::move(result)});
    }
}

void QueueCore::shedPredictedMissesLocked(qint64 nowMs, Deliveries &out)
{
    if (!canPredictLocked()) {
        return;
    }
    // One pass in service order: each waiter is judged behind the waiters kept ahead of
    // it, so refusing one helps those behind it.
    SlotForecast forecast = forecastLocked(nowMs);
    for (ClassQueue &queue : m_classes) {
        for (auto it = queue.waiting.begin(); it != queue.waiting.end();) {
            const std::shared_ptr<WaiterState> waiter = it->second;
            ++it; // removeLocked() erases the current entry
            const double predictedMs = forecast.nextStartMs() + m_drain.serviceTtftMs();
            const double lateByMs =
                static_cast<double>(nowMs) + predictedMs - static_cast<double>(waiter->order.deadlineMs);
            if (lateByMs > 0.0) {
                removeLocked(waiter);
                const Refusal refusal {RefusalReason::PredictedMiss, retryAfterSeconds(lateByMs)};
                refuseLocked(waiter, Verdict::Rejected, refusal, nowMs, out);
            } else {
                forecast.take(m_drain.expectedHoldMs(waiter->tokens));
            }
        }
    }
}

} // namespace Gateway::Admission
