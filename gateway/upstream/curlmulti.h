#pragma once

#include "upstreamrequest.h"

#include <QObject>
#include <QTimer>

#include <chrono>
#include <memory>
#include <unordered_map>
#include <vector>

struct curl_slist;

namespace Gateway::Upstream {

class Transfer;
class SocketWatcher;

// libcurl's multi interface driven by this thread's Qt event loop (the qtcurl pattern):
// curl's socket callback maps to QSocketNotifiers, its timer callback to a single-shot
// QTimer, and finished transfers are drained after every action. One per worker
// thread, owned by that worker: curl's connection pool (keep-alive, HTTP/2 sessions)
// is per multi handle, so it is never shared across threads and needs no locks.
class CurlMulti final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CurlMulti)

public:
    explicit CurlMulti(QObject *parent = nullptr);
    ~CurlMulti() override;

    // Starts a transfer. Destroying the returned Transfer cancels it at once.
    std::unique_ptr<Transfer> start(UpstreamRequest &&request, TransferObserver &observer);

    // Lets curl start transfers added since the last event-loop turn right away instead
    // of on its 0 ms timer, saving a loop iteration per request. Safe to call from
    // anywhere but a curl callback (where it does nothing). A transfer's observer may be
    // called, and the transfer finished, before this returns.
    void kick();

private:
    friend class Transfer;
    friend class SocketWatcher;

    static int socketCallback(void *easy, int socket, int what, void *userp, void *socketp);
    static int timerCallback(void *multi, long timeoutMs, void *userp);

    void onSocketActivity(int socket, int eventMask);
    void onCurlTimer();
    void drainFinished();
    void checkDeadlines();
    void detach(Transfer *transfer); // removes from the multi handle and the active list
    void *takeEasyHandle();
    void recycleEasyHandle(void *easy);

    void *m_multi;
    QTimer m_curlTimer;
    std::chrono::steady_clock::time_point m_curlDeadline; // when m_curlTimer fires
    QTimer m_deadlineTimer;
    std::vector<Transfer *> m_active;
    // One watcher per descriptor number curl ever used, children of this object; a
    // disabled watcher never conflicts with whoever reuses the number.
    std::unordered_map<int, SocketWatcher *> m_watchers;
    std::vector<void *> m_idleEasyHandles;
    int m_actionDepth = 0; // > 0 while inside curl_multi_socket_action
    bool m_honourProxyEnvironment = true;
};

// One upstream HTTP exchange in flight. RAII: its destructor cancels the transfer.
class Transfer final {
public:
    ~Transfer();
    Transfer(const Transfer &) = delete;
    Transfer &operator=(const Transfer &) = delete;

    // Backpressure: stop reading from upstream while the client is slow, and go on.
    void pauseReceiving();
    void resumeReceiving();

private:
    friend class CurlMulti;
    using Clock = std::chrono::steady_clock;

    Transfer(CurlMulti &multi, UpstreamRequest &&request, TransferObserver &observer);

    static size_t headerCallback(char *data, size_t size, size_t count, void *userp);
    static size_t writeCallback(char *data, size_t size, size_t count, void *userp);
    void complete(int curlCode);
    void fail(TransferError error, const char *text);

    CurlMulti &m_multi;
    UpstreamRequest m_request;
    TransferObserver &m_observer;
    void *m_easy = nullptr;
    std::unique_ptr<curl_slist, void (*)(curl_slist *)> m_headerList;
    Http::HeaderList m_responseHeaders;
    Clock::time_point m_deadline;
    bool m_attached = false;
    bool m_headDelivered = false;
    bool m_bodyStarted = false;
    bool m_paused = false;
    bool m_abortedByObserver = false;
};

} // namespace Gateway::Upstream
