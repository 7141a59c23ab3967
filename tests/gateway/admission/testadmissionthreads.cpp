#include "admissiontestsupport.h"

#include <QTest>
#include <QThread>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

using namespace AdmissionTest;

namespace {

constexpr qint64 NOW = 1'000'000;

// Tickets in flight between the threads that receive them and the threads that give
// them back.
class TicketPool {
public:
    void put(SlotTicket ticket)
    {
        const std::lock_guard lock {m_mutex};
        m_tickets.push_back(std::move(ticket));
    }
    bool take(SlotTicket &ticket)
    {
        const std::lock_guard lock {m_mutex};
        if (m_tickets.empty()) {
            return false;
        }
        ticket = std::move(m_tickets.front());
        m_tickets.pop_front();
        return true;
    }

private:
    std::mutex m_mutex;
    std::deque<SlotTicket> m_tickets;
};

} // namespace

class TestAdmissionThreads final : public QObject {
    Q_OBJECT

private slots:
    void admitReleaseCancelAndExpireFromManyThreads();
    void waiterResumesOnItsOwnThread();
    void discardedPostedGrantGivesTheSlotBack();
};

void TestAdmissionThreads::admitReleaseCancelAndExpireFromManyThreads()
{
    constexpr int SLOT_COUNT = 6;
    constexpr int ADMITTERS = 4;
    constexpr int RELEASERS = 2;
    constexpr int REQUESTS_PER_ADMITTER = 4000;
    QueueSettings settings = settingsWith(SLOT_COUNT, 40);
    for (const PriorityClass priority : PRIORITY_CLASSES) {
        // In ticks of the shared counter below: short enough that some waits time out.
        settings[priority].maxQueueWaitMs = 300;
        settings[priority].ttftObjectiveMs = 200;
    }
    AdmissionQueue queue(settings);
    TicketPool pool;
    std::atomic<qint64> clock {NOW};
    std::atomic<int> held {0};
    std::atomic<int> maxHeld {0};
    std::atomic<int> queued {0};
    std::atomic<int> callbacksRun {0};
    std::atomic<int> cancelsPrevented {0};
    std::atomic<int> doubleCalls {0};
    std::atomic<bool> admittersDone {false};

    const auto hold = [&](SlotTicket ticket) {
        const int now = held.fetch_add(1) + 1;
        int seen = maxHeld.load();
        while (now > seen && !maxHeld.compare_exchange_weak(seen, now)) {
        }
        pool.put(std::move(ticket));
    };

    std::vector<std::thread> threads;
    for (int t = 0; t < ADMITTERS; ++t) {
        threads.emplace_back([&, t] {
            std::vector<WaitHandle> handles;
            for (int i = 0; i < REQUESTS_PER_ADMITTER; ++i) {
                const PriorityClass priority = PRIORITY_CLASSES[static_cast<std::size_t>((i + t) % 3)];
                auto calls = std::make_shared<std::atomic<int>>(0);
                AdmitResult result = queue.admit(
                    request(priority, QStringLiteral("key%1").arg(i % 5), 10 + (i % 7) * 10),
                    [&, calls](WaitResult waited) {
                        if (calls->fetch_add(1) != 0) {
                            ++doubleCalls;
                        }
                        ++callbacksRun;
                        if (waited.verdict == Verdict::Granted) {
                            hold(std::move(waited.ticket));
                        }
                    },
                    clock.fetch_add(1));
                if (result.verdict == Verdict::Granted) {
                    hold(std::move(result.ticket));
                } else if (result.verdict == Verdict::Queued) {
                    ++queued;
                    handles.push_back(std::move(result.handle));
                }
                // Clients give up now and then: the oldest wait is withdrawn.
                if (i % 7 == 0 && !handles.empty()) {
                    if (handles.front().cancel()) {
                        ++cancelsPrevented;
                    }
                    handles.erase(handles.begin());
                }
            }
            for (WaitHandle &handle : handles) {
                if (handle.cancel()) {
                    ++cancelsPrevented;
                }
            }
        });
    }
    for (int r = 0; r < RELEASERS; ++r) {
        threads.emplace_back([&, r] {
            int turn = 0;
            for (;;) {
                SlotTicket ticket;
                if (!pool.take(ticket)) {
                    if (admittersDone.load()) {
                        return;
                    }
                    queue.expire(clock.fetch_add(1));
                    std::this_thread::yield();
                    continue;
                }
                --held;
                if ((++turn + r) % 2 == 0) {
                    ticket.complete(clock.fetch_add(1));
                } else {
                    ticket.release(clock.fetch_add(1));
                }
            }
        });
    }
    for (int t = 0; t < ADMITTERS; ++t) {
        threads[static_cast<std::size_t>(t)].join();
    }
    // Every wait is over (granted, refused or cancelled): what is left are tickets.
    admittersDone = true;
    for (int r = 0; r < RELEASERS; ++r) {
        threads[static_cast<std::size_t>(ADMITTERS + r)].join();
    }
    SlotTicket leftover;
    while (pool.take(leftover)) {
        --held;
        leftover.release(clock.load());
    }

    const QueueMetrics metrics = queue.metrics();
    QCOMPARE(held.load(), 0);
    QCOMPARE(metrics.inUse, 0);            // no slot leaked...
    QVERIFY(maxHeld.load() <= SLOT_COUNT); // ... and none handed out twice
    QCOMPARE(doubleCalls.load(), 0);
    // Each queued request was resolved exactly once: by its callback or by a cancel.
    QCOMPARE(callbacksRun.load() + cancelsPrevented.load(), queued.load());
    std::uint64_t totalQueued = 0;
    for (const PriorityClass priority : PRIORITY_CLASSES) {
        const ClassMetrics &m = metrics[priority];
        QCOMPARE(m.depth, 0);
        QCOMPARE(m.queued, m.grantedFromQueue + m.shedWhileQueued + m.timedOut + m.cancelled);
        totalQueued += m.queued;
    }
    QCOMPARE(totalQueued, std::uint64_t(queued.load()));
    QVERIFY(queued.load() > 0);
}

void TestAdmissionThreads::waiterResumesOnItsOwnThread()
{
    // The wiring the proxy uses: the callback runs on whichever thread freed the slot and
    // only posts the result to the waiting exchange's thread.
    QThread worker;
    worker.start();
    QObject context;
    context.moveToThread(&worker);

    AdmissionQueue queue(settingsWith(1));
    SlotTicket held = queue.admit(request(PriorityClass::Standard, QStringLiteral("k")), {}, NOW).ticket;
    std::atomic<QThread *> resumedOn {nullptr};
    std::atomic<QThread *> calledOn {nullptr};
    AdmitResult queued = queue.admit(
        request(PriorityClass::Interactive, QStringLiteral("k")),
        [&context, &resumedOn, &calledOn](WaitResult result) {
            calledOn = QThread::currentThread();
            QMetaObject::invokeMethod(
                &context,
                [result = std::move(result), &resumedOn]() mutable {
                    QCOMPARE(result.verdict, Verdict::Granted);
                    result.ticket.complete(NOW + 20); // the answer is done, on the worker
                    resumedOn = QThread::currentThread();
                },
                Qt::QueuedConnection);
        },
        NOW);
    QCOMPARE(queued.verdict, Verdict::Queued);

    held.release(NOW + 5);
    QCOMPARE(calledOn.load(), QThread::currentThread());
    QTRY_COMPARE(resumedOn.load(), &worker);
    QTRY_COMPARE(queue.metrics().inUse, 0);
    QVERIFY(!queued.handle.cancel());
    worker.quit();
    worker.wait();
}

void TestAdmissionThreads::discardedPostedGrantGivesTheSlotBack()
{
    // The exchange is deleted after its grant was posted but before it ran: Qt discards
    // the posted call, and the ticket inside it gives the slot back.
    AdmissionQueue queue(settingsWith(1));
    SlotTicket held = queue.admit(request(PriorityClass::Standard, QStringLiteral("k")), {}, NOW).ticket;
    auto context = std::make_unique<QObject>();
    bool ran = false;
    QObject *target = context.get();
    AdmitResult queued = queue.admit(
        request(PriorityClass::Standard, QStringLiteral("k")),
        [target, &ran](WaitResult result) {
            QMetaObject::invokeMethod(
                target, [result = std::move(result), &ran]() mutable { ran = true; }, Qt::QueuedConnection);
        },
        NOW);
    held.release(NOW + 5);
    QCOMPARE(queue.metrics().inUse, 1); // granted, waiting in the event queue
    context.reset();
    QCoreApplication::processEvents();
    QVERIFY(!ran);
    QCOMPARE(queue.metrics().inUse, 0);
}

QTEST_GUILESS_MAIN(TestAdmissionThreads)
#include "testadmissionthreads.moc"
