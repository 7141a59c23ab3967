#pragma once

#include "h2corigin.h"
#include "upstreamrequest.h"

#include <QObject>
#include <QTimer>

#include <chrono>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

struct curl_slist;

namespace Gateway::Upstream {

class Transfer;
class SocketWatcher;
class PlainConnection;
class PlainConnectionPool;
class PlainRoutes;
class PlainSink;
struct PlainOrigin;
struct PlainRoute;
struct PlainState;

// Upstream HTTP for one worker thread, driven by its Qt event loop.
//
// Two paths behind one interface:
// - libcurl's multi interface (the qtcurl pattern): curl's socket callback maps to
//   QSocketNotifiers, its timer callback to a single-shot QTimer, and finished transfers
//   are drained after every action. It serves everything: TLS, HTTP/2, proxies.
// - a small built-in HTTP/1.1 client for plain `http://` upstreams when no proxy is
//   configured (local inference servers, sidecars). It sends the same request bytes
//   curl would (request line, Host, Accept, the caller's headers, Content-Length) and
//   reads responses with Content-Length, chunked or close-delimited bodies. It exists
//   because curl's per-request generality (URL parsing, printf-built request heads,
//   two readiness polls per request) cost more CPU than the rest of a proxied request.
//   Anything unusual (a header curl treats specially, an unusual URL, a host name not
//   resolved yet) goes to curl instead. Its parts: PlainRoutes (plainroute.h: which
//   requests, where to), HostResolver, PlainConnection and its pool, ResponseFramer;
//   plaintransfer.cpp drives a transfer through them.
//
// One per worker thread, owned by that worker: the connection pools (curl's and the
// built-in one) are per instance, so they are never shared across threads and need no
// locks.
class CurlMulti final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CurlMulti)

public:
    // Streams one HTTP/2 connection carries at most before curl opens another to the
    // same origin (TLS with h2, or h2c); the upstream's own SETTINGS may lower it. High:
    // one connection per worker and origin while the server allows it, which is how
    // 10,000 held streams were measured (a lower cap means more connections, each opened
    // by a prior-knowledge opener, see h2corigin.h). curl's default is 100.
    static constexpr int HTTP2_MAX_CONCURRENT_STREAMS = 100000;

    explicit CurlMulti(QObject *parent = nullptr);
    ~CurlMulti() override;

    // Starts a transfer. Destroying the returned Transfer cancels it at once.
    std::unique_ptr<Transfer> start(UpstreamRequest &&request, TransferObserver &observer);

    // Lets curl start transfers added since the last event-loop turn right away instead
    // of on its 0 ms timer, saving a loop iteration per request. Safe to call from
    // anywhere but a curl callback (where it does nothing). A transfer's observer may be
    // called, and the transfer finished, before this returns. (The built-in client sends
    // in start() and needs no kick.)
    void kick();

    // Transfers served by the built-in HTTP/1.1 client so far (for tests).
    quint64 plainTransfers() const { return m_plainTransfers; }
    // Switches the built-in client off: every later transfer goes through curl (tests).
    void setPlainClientEnabled(bool enabled) { m_plainEnabled = enabled; }

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

    // h2c (h2ctransfer.cpp, h2corigin.h): transfers wait per origin until a connection
    // attempt before them has connected.
    void queueH2c(Transfer *transfer);
    void scheduleH2cPump();
    void pumpH2c();
    void pumpH2cOrigin(H2cOrigin &origin);
    void forgetH2c(Transfer *transfer, const TransferResult *result);

    // Built-in client.
    PlainRoute *plainRouteFor(const UpstreamRequest &request);
    void runPlainQueue();
    void schedulePlainQueue();
    void onPlainActivity(PlainConnection *connection, bool readable);
    PlainConnection *openConnection(PlainOrigin &origin, int descriptor);

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
    bool m_curlAdded = false; // a curl transfer was added since the last kick

    std::map<QByteArray, H2cOrigin> m_h2cOrigins; // by scheme://host:port; node-based: stable addresses
    quint64 m_h2cSequence = 0;
    bool m_h2cPumpScheduled = false;
    bool m_h2cPumpWanted = false; // a transfer was queued since the last kick

    bool m_plainEnabled = true;
    quint64 m_plainTransfers = 0;
    std::unique_ptr<PlainRoutes> m_plainRoutes;
    std::unique_ptr<PlainConnectionPool> m_connections;
    std::vector<Transfer *> m_plainQueue; // outcomes to report, resumed input to process
    bool m_plainQueueScheduled = false;
    bool m_plainStarting = false; // inside start(): outcomes wait for the event loop
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
    friend class PlainSink;
    using Clock = std::chrono::steady_clock;

    Transfer(CurlMulti &multi, UpstreamRequest &&request, TransferObserver &observer);
    Transfer(CurlMulti &multi, UpstreamRequest &&request, TransferObserver &observer, PlainRoute &route);

    static int prereqCallback(void *userp, char *remoteIp, char *localIp, int remotePort, int localPort);
    static size_t headerCallback(char *data, size_t size, size_t count, void *userp);
    static size_t writeCallback(char *data, size_t size, size_t count, void *userp);
    void complete(int curlCode);
    void fail(TransferError error, const char *text);
    TransferResult resultOf(int curlCode, int status) const;

    // Built-in client: each returns false once the transfer has ended (its observer was
    // told, and `this` may be gone).
    bool plainBegin();
    bool plainConnect();
    bool plainSend();
    bool plainOnWritable();
    bool plainOnReadable();
    bool plainProcessInput(bool eof);
    bool plainRetryOrFail(int curlCode);
    bool plainFinish(int curlCode, bool reusable);
    bool plainReport(int curlCode);

    CurlMulti &m_multi;
    UpstreamRequest m_request;
    TransferObserver &m_observer;
    void *m_easy = nullptr;
    std::unique_ptr<curl_slist, void (*)(curl_slist *)> m_headerList;
    std::unique_ptr<PlainState> m_plain; // set: served by the built-in client
    Http::HeaderList m_responseHeaders;
    Clock::time_point m_deadline;
    int m_plainStatus = 0; // built-in client: the final response's status once its head is read
    H2cOrigin *m_h2cOrigin = nullptr; // set: an h2c transfer, admitted per origin
    quint64 m_h2cSequence = 0;
    bool m_h2cQueued = false;    // waiting in m_h2cOrigin, not in curl
    bool m_connected = false;    // curl has a connection for it (pre-request callback ran)
    bool m_inCurl = false;       // added to the multi handle
    bool m_h2cStream = false;    // counted in m_h2cOrigin->streams
    bool m_h2cReuse = false;     // admitted to reuse a connection (CURL_HTTP_VERSION_2_0)
    bool m_attached = false;
    bool m_headDelivered = false;
    bool m_bodyStarted = false;
    bool m_paused = false;
    bool m_abortedByObserver = false;
};

} // namespace Gateway::Upstream
