#include "epolleventdispatcher.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QTimerEvent>

#include <array>
#include <cerrno>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <vector>

namespace Gateway::Http {

namespace {

constexpr int MAX_EVENTS = 256;

} // namespace

EpollEventDispatcher::EpollEventDispatcher(QObject *parent)
    : QAbstractEventDispatcher {parent}
    , m_epoll {::epoll_create1(EPOLL_CLOEXEC)}
    , m_wakeFd {::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)}
{
    epoll_event event {};
    event.events = EPOLLIN;
    event.data.fd = m_wakeFd;
    ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, m_wakeFd, &event);
}

EpollEventDispatcher::~EpollEventDispatcher()
{
    ::close(m_wakeFd);
    ::close(m_epoll);
}

void EpollEventDispatcher::updateWatch(int fd, Watch &watch)
{
    // Qt registers a notifier when it is enabled and unregisters it when disabled, so a
    // filled slot means "watch this direction".
    const quint32 wanted =
        (watch.read ? quint32 {EPOLLIN} : 0u) | (watch.write ? quint32 {EPOLLOUT} : 0u) | (watch.exception ? quint32 {EPOLLPRI} : 0u);
    if (wanted == watch.events) {
        return;
    }
    epoll_event event {};
    event.events = wanted;
    event.data.fd = fd;
    if (wanted == 0) {
        ::epoll_ctl(m_epoll, EPOLL_CTL_DEL, fd, &event); // may already be gone with its fd
    } else if (watch.events == 0) {
        if (::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event) != 0 && errno == EEXIST) {
            ::epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &event);
        }
    } else if (::epoll_ctl(m_epoll, EPOLL_CTL_MOD, fd, &event) != 0 && errno == ENOENT) {
        // The descriptor was closed and its number reused without an unregister.
        ::epoll_ctl(m_epoll, EPOLL_CTL_ADD, fd, &event);
    }
    watch.events = wanted;
}

void EpollEventDispatcher::registerSocketNotifier(QSocketNotifier *notifier)
{
    const int fd = static_cast<int>(notifier->socket());
    Watch &watch = m_watches[fd];
    switch (notifier->type()) {
    case QSocketNotifier::Read: watch.read = notifier; break;
    case QSocketNotifier::Write: watch.write = notifier; break;
    case QSocketNotifier::Exception: watch.exception = notifier; break;
    }
    updateWatch(fd, watch);
}

void EpollEventDispatcher::unregisterSocketNotifier(QSocketNotifier *notifier)
{
    const int fd = static_cast<int>(notifier->socket());
    const auto it = m_watches.find(fd);
    if (it == m_watches.end()) {
        return;
    }
    Watch &watch = it->second;
    if (watch.read == notifier) {
        watch.read = nullptr;
    }
    if (watch.write == notifier) {
        watch.write = nullptr;
    }
    if (watch.exception == notifier) {
        watch.exception = nullptr;
    }
    updateWatch(fd, watch);
    if (watch.events == 0) {
        m_watches.erase(it);
    }
}

void EpollEventDispatcher::schedule(int timerId, Timer &timer, Clock::time_point deadline)
{
    timer.deadline = deadline;
    m_deadlines.emplace(deadline, timerId);
}

void EpollEventDispatcher::registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object)
{
    Timer &timer = m_timers[timerId];
    timer.intervalMs = std::max<qint64>(0, interval);
    timer.type = timerType;
    timer.object = object;
    schedule(timerId, timer, Clock::now() + std::chrono::milliseconds(timer.intervalMs));
}

bool EpollEventDispatcher::unregisterTimer(int timerId)
{
    const auto it = m_timers.find(timerId);
    if (it == m_timers.end()) {
        return false;
    }
    auto [first, last] = m_deadlines.equal_range(it->second.deadline);
    for (auto entry = first; entry != last; ++entry) {
        if (entry->second == timerId) {
            m_deadlines.erase(entry);
            break;
        }
    }
    m_timers.erase(it);
    return true;
}

bool EpollEventDispatcher::unregisterTimers(QObject *object)
{
    std::vector<int> ids;
    for (const auto &[id, timer] : m_timers) {
        if (timer.object == object) {
            ids.push_back(id);
        }
    }
    for (const int id : ids) {
        unregisterTimer(id);
    }
    return !ids.empty();
}

QList<QAbstractEventDispatcher::TimerInfo> EpollEventDispatcher::registeredTimers(QObject *object) const
{
    QList<TimerInfo> timers;
    for (const auto &[id, timer] : m_timers) {
        if (timer.object == object) {
            timers.append(TimerInfo(id, static_cast<int>(timer.intervalMs), timer.type));
        }
    }
    return timers;
}

int EpollEventDispatcher::remainingTime(int timerId)
{
    const auto it = m_timers.find(timerId);
    if (it == m_timers.end()) {
        return -1;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(it->second.deadline - Clock::now()).count();
    return static_cast<int>(std::max<qint64>(0, left));
}

void EpollEventDispatcher::wakeUp()
{
    // One eventfd write per batch of wake-ups; cleared after the read in processEvents.
    if (!m_wakePending.exchange(true)) {
        const quint64 one = 1;
        [[maybe_unused]] const auto written = ::write(m_wakeFd, &one, sizeof one);
    }
}

void EpollEventDispatcher::interrupt()
{
    m_interrupted.store(true);
    wakeUp();
}

int EpollEventDispatcher::nextTimeoutMs() const
{
    if (m_deadlines.empty()) {
        return -1;
    }
    const auto left = m_deadlines.begin()->first - Clock::now();
    if (left <= Clock::duration::zero()) {
        return 0;
    }
    // Round up: waking a little late is fine, waking early just loops once more.
    return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
}

int EpollEventDispatcher::activateTimers()
{
    const auto now = Clock::now();
    // Only timers due now: a 0 ms timer that re-arms itself runs once per iteration.
    std::vector<int> due;
    for (auto it = m_deadlines.begin(); it != m_deadlines.end() && it->first <= now;) {
        due.push_back(it->second);
        it = m_deadlines.erase(it);
    }
    for (const int id : due) {
        auto it = m_timers.find(id);
        if (it != m_timers.end()) {
            const auto next = it->second.deadline + std::chrono::milliseconds(it->second.intervalMs);
            schedule(id, it->second, next > now ? next : now + std::chrono::milliseconds(it->second.intervalMs));
        }
    }
    int delivered = 0;
    for (const int id : due) {
        const auto it = m_timers.find(id);
        if (it == m_timers.end()) {
            continue; // unregistered by an earlier timer in this batch
        }
        QTimerEvent event {id};
        QCoreApplication::sendEvent(it->second.object, &event);
        ++delivered;
    }
    return delivered;
}

bool EpollEventDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    m_interrupted.store(false);
    Q_EMIT awake();
    QCoreApplication::sendPostedEvents();

    const bool canWait = flags.testFlag(QEventLoop::WaitForMoreEvents) && !m_interrupted.load();
    const int timeout = canWait ? nextTimeoutMs() : 0;
    if (canWait) {
        Q_EMIT aboutToBlock();
    }
    std::array<epoll_event, MAX_EVENTS> events {};
    int ready = ::epoll_wait(m_epoll, events.data(), MAX_EVENTS, timeout);
    if (ready < 0) {
        ready = 0; // EINTR: just go round again
    }
    Q_EMIT awake();

    int handled = 0;
    const bool socketsAllowed = !flags.testFlag(QEventLoop::ExcludeSocketNotifiers);
    for (int i = 0; i < ready; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        const quint32 happened = events[static_cast<std::size_t>(i)].events;
        if (fd == m_wakeFd) {
            quint64 count = 0;
            [[maybe_unused]] const auto read = ::read(m_wakeFd, &count, sizeof count);
            m_wakePending.store(false);
            ++handled;
            continue;
        }
        if (!socketsAllowed) {
            continue; // level-triggered: they are reported again next time
        }
        // Look the watch up for each delivery: an earlier activation may have removed it.
        const auto deliver = [this, fd, &handled](QSocketNotifier *Watch::*slot) {
            const auto it = m_watches.find(fd);
            if (it == m_watches.end() || !(it->second.*slot)) {
                return;
            }
            QEvent event {QEvent::SockAct};
            QCoreApplication::sendEvent(it->second.*slot, &event);
            ++handled;
        };
        if (happened & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
            deliver(&Watch::read);
        }
        if (happened & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
            deliver(&Watch::write);
        }
        if (happened & EPOLLPRI) {
            deliver(&Watch::exception);
        }
    }
    if (!flags.testFlag(QEventLoop::X11ExcludeTimers)) {
        handled += activateTimers();
    }
    return handled > 0;
}

} // namespace Gateway::Http
