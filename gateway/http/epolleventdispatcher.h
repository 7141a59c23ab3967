#pragma once

#include <QAbstractEventDispatcher>

#include <atomic>
#include <chrono>
#include <map>
#include <unordered_map>

namespace Gateway::Http {

// An event dispatcher for the data-plane threads built on Linux epoll. Qt's own UNIX
// dispatcher calls poll() over every registered descriptor on each wake-up, so its cost
// grows with the number of open connections (two sockets per proxied request); epoll
// reports only the ready ones, as nginx and Envoy do. Timers are kept in a deadline map
// and delivered as QTimerEvents; posted events are sent at the top of each iteration;
// wakeUp() writes an eventfd.
class EpollEventDispatcher final : public QAbstractEventDispatcher {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EpollEventDispatcher)

public:
    explicit EpollEventDispatcher(QObject *parent = nullptr);
    ~EpollEventDispatcher() override;

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;

    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;

    void registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;

    void wakeUp() override;
    void interrupt() override;

private:
    using Clock = std::chrono::steady_clock;

    struct Watch {
        QSocketNotifier *read = nullptr;
        QSocketNotifier *write = nullptr;
        QSocketNotifier *exception = nullptr;
        quint32 events = 0; // the mask registered with epoll
    };

    struct Timer {
        qint64 intervalMs = 0;
        Qt::TimerType type = Qt::CoarseTimer;
        QObject *object = nullptr;
        Clock::time_point deadline;
    };

    void updateWatch(int fd, Watch &watch);
    int nextTimeoutMs() const;
    int activateTimers();
    void schedule(int timerId, Timer &timer, Clock::time_point deadline);

    int m_epoll = -1;
    int m_wakeFd = -1;
    std::atomic<bool> m_wakePending {false};
    std::atomic<bool> m_interrupted {false};
    std::unordered_map<int, Watch> m_watches;
    std::unordered_map<int, Timer> m_timers;
    std::multimap<Clock::time_point, int> m_deadlines; // deadline -> timer id
};

} // namespace Gateway::Http
