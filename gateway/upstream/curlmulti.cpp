#include "curlmulti.h"

#include "headermatch.h"
#include "plainconnection.h"
#include "plainroute.h"
#include "plaintransfer.h"

#include <QSocketNotifier>

#include <curl/curl.h>

#include <algorithm>

namespace Gateway::Upstream {

namespace {

// How often in-flight transfers are checked against their first-byte/idle deadlines.
// Timeouts are seconds long in practice, so a coarse sweep beats a timer per request.
constexpr int DEADLINE_SWEEP_MS = 25;

struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

void ensureCurlGlobal()
{
    // curl_global_init is not thread-safe before 7.84 and must run once per process.
    static const CurlGlobal global;
}

} // namespace

// Watches one socket descriptor for curl. curl stops watching a connection each time it
// goes back to its pool and starts again for the next request on it, so watchers are
// kept per descriptor and only switched off and on: creating and deleting notifier
// objects for every request would cost more than proxying it.
class SocketWatcher final : public QObject {
public:
    SocketWatcher(CurlMulti &multi, int socket)
        : QObject {&multi}
        , m_socket {socket}
        , m_read {new QSocketNotifier(socket, QSocketNotifier::Read, this)}
        , m_write {new QSocketNotifier(socket, QSocketNotifier::Write, this)}
    {
        m_read->setEnabled(false);
        m_write->setEnabled(false);
        connect(m_read, &QSocketNotifier::activated, &multi,
                [&multi, socket] { multi.onSocketActivity(socket, CURL_CSELECT_IN); });
        connect(m_write, &QSocketNotifier::activated, &multi,
                [&multi, socket] { multi.onSocketActivity(socket, CURL_CSELECT_OUT); });
    }

    void watch(int what)
    {
        m_read->setEnabled(what == CURL_POLL_IN || what == CURL_POLL_INOUT);
        m_write->setEnabled(what == CURL_POLL_OUT || what == CURL_POLL_INOUT);
    }

    void stop()
    {
        m_read->setEnabled(false);
        m_write->setEnabled(false);
    }

private:
    int m_socket;
    QSocketNotifier *m_read;
    QSocketNotifier *m_write;
};

CurlMulti::CurlMulti(QObject *parent)
    : QObject {parent}
    , m_plainRoutes {std::make_unique<PlainRoutes>()}
    , m_connections {std::make_unique<PlainConnectionPool>()}
{
    ensureCurlGlobal();
    m_multi = curl_multi_init();
    curl_multi_setopt(m_multi, CURLMOPT_SOCKETFUNCTION, &CurlMulti::socketCallback);
    curl_multi_setopt(m_multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(m_multi, CURLMOPT_TIMERFUNCTION, &CurlMulti::timerCallback);
    curl_multi_setopt(m_multi, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(m_multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    // Keep enough idle upstream connections for a busy worker's keep-alive pool.
    curl_multi_setopt(m_multi, CURLMOPT_MAXCONNECTS, 256L);
    curl_multi_setopt(m_multi, CURLMOPT_MAX_CONCURRENT_STREAMS, static_cast<long>(HTTP2_MAX_CONCURRENT_STREAMS));
    // libcurl looks up the proxy environment variables for every transfer; when none is
    // set at start-up, say so once and save those look-ups on the hot path.
    m_honourProxyEnvironment = false;
    for (const char *name : {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
        m_honourProxyEnvironment = m_honourProxyEnvironment || qEnvironmentVariableIsSet(name);
    }
    // SWITCHYARD_UPSTREAM_CLIENT=curl sends everything through curl (an escape hatch,
    // and how the test suite checks both paths).
    m_plainEnabled = qgetenv("SWITCHYARD_UPSTREAM_CLIENT") != "curl";
    m_curlTimer.setParent(this); // parented: they follow the object to its thread
    m_deadlineTimer.setParent(this);
    m_curlTimer.setSingleShot(true);
    connect(&m_curlTimer, &QTimer::timeout, this, &CurlMulti::onCurlTimer);
    m_deadlineTimer.setInterval(DEADLINE_SWEEP_MS);
    connect(&m_deadlineTimer, &QTimer::timeout, this, &CurlMulti::checkDeadlines);
}

CurlMulti::~CurlMulti()
{
    // Transfers are owned by their exchanges, which must be gone before their worker's
    // multi handle; detach any stragglers so curl never calls into freed memory.
    for (Transfer *transfer : std::vector<Transfer *>(m_active)) {
        detach(transfer);
    }
    for (void *easy : m_idleEasyHandles) {
        curl_easy_cleanup(easy);
    }
    curl_multi_cleanup(m_multi);
    m_connections.reset();
}

int CurlMulti::socketCallback(void *, int socket, int what, void *userp, void *socketp)
{
    auto *self = static_cast<CurlMulti *>(userp);
    auto *watcher = static_cast<SocketWatcher *>(socketp);
    if (what == CURL_POLL_REMOVE) {
        if (watcher) {
            watcher->stop();
            curl_multi_assign(self->m_multi, socket, nullptr);
        }
        return 0;
    }
    if (!watcher) {
        SocketWatcher *&cached = self->m_watchers[socket];
        if (!cached) {
            cached = new SocketWatcher(*self, socket);
        }
        watcher = cached;
        curl_multi_assign(self->m_multi, socket, watcher);
    }
    watcher->watch(what);
    return 0;
}

int CurlMulti::timerCallback(void *, long timeoutMs, void *userp)
{
    auto *self = static_cast<CurlMulti *>(userp);
    // curl moves its timer several times per transfer. Re-arming a QTimer each time costs
    // more than an early expiry, which is harmless (curl finds nothing due and asks for
    // the right time again), so the timer is only moved earlier, never later, and never
    // stopped. Even a 0 ms timeout is run from the event loop: socket_action must not be
    // called from inside a curl callback.
    if (timeoutMs < 0) {
        return 0;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    if (!self->m_curlTimer.isActive() || deadline < self->m_curlDeadline) {
        self->m_curlDeadline = deadline;
        self->m_curlTimer.start(static_cast<int>(std::min<long>(timeoutMs, 24L * 3600 * 1000)));
    }
    return 0;
}

void CurlMulti::onSocketActivity(int socket, int eventMask)
{
    int running = 0;
    ++m_actionDepth;
    curl_multi_socket_action(m_multi, socket, eventMask, &running);
    --m_actionDepth;
    drainFinished();
}

void CurlMulti::onCurlTimer()
{
    int running = 0;
    ++m_actionDepth;
    curl_multi_socket_action(m_multi, CURL_SOCKET_TIMEOUT, 0, &running);
    --m_actionDepth;
    drainFinished();
}

void CurlMulti::kick()
{
    if (m_actionDepth > 0) {
        return; // inside curl: its timer callback already scheduled the work
    }
    // The built-in client sent its requests in start().
    if (m_h2cPumpWanted) {
        pumpH2c();
    }
    if (m_curlAdded) {
        m_curlAdded = false;
        // The armed timer stays: it may stand for another transfer's deadline.
        onCurlTimer();
    }
}

void CurlMulti::drainFinished()
{
    int left = 0;
    while (CURLMsg *message = curl_multi_info_read(m_multi, &left)) {
        if (message->msg != CURLMSG_DONE) {
            continue;
        }
        Transfer *transfer = nullptr;
        curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &transfer);
        const int code = message->data.result;
        if (transfer) {
            // complete() hands control to the observer, which may delete the transfer.
            transfer->complete(code);
        }
    }
}

void CurlMulti::checkDeadlines()
{
    const auto now = Transfer::Clock::now();
    // Collect first: failing a transfer runs observer code that may start or end others.
    std::vector<Transfer *> expired;
    for (Transfer *transfer : m_active) {
        if (!transfer->m_paused && transfer->m_deadline <= now) {
            expired.push_back(transfer);
        }
    }
    for (Transfer *transfer : expired) {
        if (std::find(m_active.begin(), m_active.end(), transfer) == m_active.end()) {
            continue; // finished meanwhile
        }
        if (transfer->m_plain && transfer->m_plain->phase == PlainState::Phase::Connecting) {
            // curl reports its connect timeout the same way.
            transfer->fail(TransferError::ConnectTimeout, curl_easy_strerror(CURLE_OPERATION_TIMEDOUT));
            continue;
        }
        transfer->fail(transfer->m_bodyStarted ? TransferError::IdleTimeout : TransferError::FirstByteTimeout,
                       transfer->m_bodyStarted ? "upstream went silent for longer than the idle timeout"
                                               : "upstream did not answer within the first-token timeout");
    }
    if (m_active.empty()) {
        m_deadlineTimer.stop();
    }
}

void CurlMulti::detach(Transfer *transfer)
{
    if (!transfer->m_attached) {
        return;
    }
    transfer->m_attached = false;
    if (transfer->m_easy && transfer->m_inCurl) {
        transfer->m_inCurl = false;
        curl_multi_remove_handle(m_multi, transfer->m_easy);
    }
    const auto it = std::find(m_active.begin(), m_active.end(), transfer);
    if (it != m_active.end()) {
        *it = m_active.back();
        m_active.pop_back();
    }
}

void *CurlMulti::takeEasyHandle()
{
    if (m_idleEasyHandles.empty()) {
        return curl_easy_init();
    }
    // Reused without curl_easy_reset(): every option a transfer depends on is set again
    // by each Transfer, which is cheaper than resetting and re-applying the defaults.
    void *easy = m_idleEasyHandles.back();
    m_idleEasyHandles.pop_back();
    return easy;
}

void CurlMulti::recycleEasyHandle(void *easy)
{
    constexpr std::size_t MAX_IDLE_EASY_HANDLES = 256;
    if (m_idleEasyHandles.size() < MAX_IDLE_EASY_HANDLES) {
        m_idleEasyHandles.push_back(easy);
    } else {
        curl_easy_cleanup(easy);
    }
}

std::unique_ptr<Transfer> CurlMulti::start(UpstreamRequest &&request, TransferObserver &observer)
{
    std::unique_ptr<Transfer> transfer;
    if (PlainRoute *route = plainRouteFor(request)) {
        transfer.reset(new Transfer(*this, std::move(request), observer, *route));
        ++m_plainTransfers;
        m_active.push_back(transfer.get());
        transfer->m_attached = true;
        // The request goes out now (nothing of the answer can arrive before the caller
        // returns to the event loop); a failure right away is reported from the loop.
        m_plainStarting = true;
        transfer->plainBegin();
        m_plainStarting = false;
    } else {
        const bool h2c = request.http2PriorKnowledge;
        transfer.reset(new Transfer(*this, std::move(request), observer));
        m_active.push_back(transfer.get());
        transfer->m_attached = true;
        if (h2c) {
            queueH2c(transfer.get());
        } else {
            curl_multi_add_handle(m_multi, transfer->m_easy);
            transfer->m_inCurl = true;
            m_curlAdded = true;
        }
    }
    if (!m_deadlineTimer.isActive()) {
        m_deadlineTimer.start();
    }
    return transfer;
}

Transfer::Transfer(CurlMulti &multi, UpstreamRequest &&request, TransferObserver &observer)
    : m_multi {multi}
    , m_request {std::move(request)}
    , m_observer {observer}
    , m_headerList {nullptr, &curl_slist_free_all}
{
    m_easy = m_multi.takeEasyHandle();
    CURL *easy = m_easy;
    curl_slist *list = nullptr;
    for (const QByteArray &line : m_request.headers) {
        list = curl_slist_append(list, line.constData());
    }
    // No "Expect: 100-continue" round trip: upstreams are trusted to take the body.
    list = curl_slist_append(list, "Expect:");
    m_headerList.reset(list);

    curl_easy_setopt(easy, CURLOPT_URL, m_request.url.constData());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
    if (m_request.method == "GET") {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(easy, CURLOPT_POST, 1L);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, m_request.body.constData());
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(m_request.body.size()));
    }
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST,
                     m_request.method == "GET" || m_request.method == "POST" ? nullptr : m_request.method.constData());
    curl_easy_setopt(easy, CURLOPT_PRIVATE, this);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Transfer::headerCallback);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::writeCallback);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_request.connectTimeoutMs));
    // Handles are reused without a reset, so both options are set for every transfer.
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION,
                     static_cast<long>(m_request.http2PriorKnowledge ? CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
                                                                     : CURL_HTTP_VERSION_2TLS));
    // Over TLS or h2c, wait for a connection that multiplexes (or might) rather than
    // opening a parallel one: a burst then shares the first connection. Plain HTTP/1.1
    // never multiplexes, and waiting there serialises a burst behind the first connect.
    const bool mayMultiplex = m_request.http2PriorKnowledge || m_request.url.startsWith("https:");
    curl_easy_setopt(easy, CURLOPT_PIPEWAIT, mayMultiplex ? 1L : 0L);
    // h2c admission learns from it when a transfer has its connection (h2corigin.h).
    curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, m_request.http2PriorKnowledge ? &Transfer::prereqCallback : nullptr);
    curl_easy_setopt(easy, CURLOPT_PREREQDATA, this);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    // Upstream bodies are passed through byte for byte, compressed or not.
    curl_easy_setopt(easy, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_PROXY, m_multi.m_honourProxyEnvironment ? nullptr : "");
    m_deadline = Clock::now() + std::chrono::milliseconds(m_request.firstByteTimeoutMs);
}

Transfer::~Transfer()
{
    if (m_plain) {
        if (m_plain->queued) {
            auto &queue = m_multi.m_plainQueue;
            queue.erase(std::remove(queue.begin(), queue.end(), this), queue.end());
        }
        if (m_plain->connection) {
            // Cancelled in flight: the connection's state is unknown, so it closes.
            m_multi.m_connections->release(m_plain->connection, false);
            m_plain->connection = nullptr;
        }
        m_multi.detach(this);
        return;
    }
    m_multi.forgetH2c(this, nullptr);
    m_multi.detach(this);
    m_multi.recycleEasyHandle(m_easy);
}

void Transfer::pauseReceiving()
{
    if (m_attached && !m_paused) {
        m_paused = true;
        if (m_plain) {
            if (m_plain->connection && m_plain->phase >= PlainState::Phase::Head) {
                m_plain->connection->watch(false, false);
            }
            return;
        }
        curl_easy_pause(m_easy, CURLPAUSE_RECV);
    }
}

void Transfer::resumeReceiving()
{
    if (m_attached && m_paused) {
        m_paused = false;
        m_deadline = Clock::now() + std::chrono::milliseconds(m_request.idleTimeoutMs);
        if (m_plain) {
            if (m_plain->connection && m_plain->phase >= PlainState::Phase::Head) {
                m_plain->connection->watch(true, false);
                if (m_plain->connection->buffered() > 0 && !m_plain->queued) {
                    // Bytes already received are delivered from the event loop, not
                    // from inside the caller.
                    m_plain->queued = true;
                    m_multi.m_plainQueue.push_back(this);
                    m_multi.schedulePlainQueue();
                }
            }
            return;
        }
        // May deliver buffered data synchronously through writeCallback.
        curl_easy_pause(m_easy, CURLPAUSE_CONT);
    }
}

size_t Transfer::headerCallback(char *data, size_t size, size_t count, void *userp)
{
    auto *self = static_cast<Transfer *>(userp);
    const size_t length = size * count;
    QByteArrayView line {data, static_cast<qsizetype>(length)};
    while (line.endsWith('\n') || line.endsWith('\r')) {
        line.chop(1);
    }
    if (line.isEmpty()) {
        if (H2cOrigin *origin = self->m_h2cOrigin; origin && !origin->settingsSeen) {
            origin->settingsSeen = true; // its connection read the server's SETTINGS first
            self->m_multi.scheduleH2cPump();
        }
        long status = 0;
        curl_easy_getinfo(self->m_easy, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 100 && status < 200) {
            self->m_responseHeaders.clear(); // interim response: the real one follows
            return length;
        }
        if (!self->m_headDelivered) {
            self->m_headDelivered = true;
            self->m_observer.onResponseHead(static_cast<int>(status), self->m_responseHeaders);
        }
        return length;
    }
    if (line.startsWith("HTTP/")) {
        self->m_responseHeaders.clear();
        return length;
    }
    const qsizetype colon = line.indexOf(':');
    if (colon > 0 && isKeptResponseHeader(line.first(colon))) {
        Http::Header header;
        header.name = line.first(colon).toByteArray().toLower();
        header.value = line.sliced(colon + 1).trimmed().toByteArray();
        self->m_responseHeaders.push_back(std::move(header));
    }
    return length;
}

size_t Transfer::writeCallback(char *data, size_t size, size_t count, void *userp)
{
    auto *self = static_cast<Transfer *>(userp);
    const size_t length = size * count;
    self->m_bodyStarted = true;
    self->m_deadline = Clock::now() + std::chrono::milliseconds(self->m_request.idleTimeoutMs);
    if (!self->m_observer.onResponseData(QByteArrayView {data, static_cast<qsizetype>(length)})) {
        self->m_abortedByObserver = true;
        return 0; // makes curl stop this transfer with CURLE_WRITE_ERROR
    }
    return length;
}

// One outcome vocabulary for both paths: the built-in client reports curl's codes too.
TransferResult Transfer::resultOf(int curlCode, int status) const
{
    TransferResult result;
    result.status = status;
    const auto code = static_cast<CURLcode>(curlCode);
    switch (code) {
    case CURLE_OK:
        result.error = TransferError::None;
        break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
        result.error = TransferError::ConnectFailed;
        break;
    case CURLE_OPERATION_TIMEDOUT:
        result.error = TransferError::ConnectTimeout;
        break;
    case CURLE_WRITE_ERROR:
        result.error = m_abortedByObserver ? TransferError::Aborted : TransferError::Other;
        break;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        result.error = TransferError::Reset;
        break;
    default:
        result.error = TransferError::Other;
        break;
    }
    if (code != CURLE_OK) {
        result.errorText = curl_easy_strerror(code);
    }
    return result;
}

void Transfer::complete(int curlCode)
{
    long status = 0;
    curl_easy_getinfo(m_easy, CURLINFO_RESPONSE_CODE, &status);
    const TransferResult result = resultOf(curlCode, static_cast<int>(status));
    m_multi.forgetH2c(this, &result);
    m_multi.detach(this);
    m_observer.onComplete(result); // may delete this
}

void Transfer::fail(TransferError error, const char *text)
{
    TransferResult result;
    result.error = error;
    result.errorText = text;
    if (m_plain) {
        if (m_plain->queued) {
            auto &queue = m_multi.m_plainQueue;
            queue.erase(std::remove(queue.begin(), queue.end(), this), queue.end());
            m_plain->queued = false;
        }
        if (m_plain->connection) {
            m_multi.m_connections->release(m_plain->connection, false);
            m_plain->connection = nullptr;
        }
        m_multi.detach(this);
        result.status = m_headDelivered ? m_plainStatus : 0;
        m_observer.onComplete(result); // may delete this
        return;
    }
    long status = 0;
    curl_easy_getinfo(m_easy, CURLINFO_RESPONSE_CODE, &status);
    result.status = static_cast<int>(status);
    m_multi.forgetH2c(this, &result);
    m_multi.detach(this);
    m_observer.onComplete(result); // may delete this
}

} // namespace Gateway::Upstream
