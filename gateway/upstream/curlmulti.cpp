#include "curlmulti.h"

#include <QSocketNotifier>

#include <curl/curl.h>

#include <arpa/inet.h>
#include <cerrno>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <thread>

namespace Gateway::Upstream {

namespace {

// How often in-flight transfers are checked against their first-byte/idle deadlines.
// Timeouts are seconds long in practice, so a coarse sweep beats a timer per request.
constexpr int DEADLINE_SWEEP_MS = 25;

// Built-in HTTP/1.1 client.
constexpr qsizetype PLAIN_READ_CHUNK = 16 * 1024;
constexpr qsizetype MAX_RESPONSE_HEAD_BYTES = 100 * 1024; // curl's limit for one header block
constexpr std::size_t MAX_IDLE_CONNECTIONS = 256;          // as CURLMOPT_MAXCONNECTS
// curl's defaults: an idle connection older than this is not reused, a resolved host
// name is kept this long.
constexpr auto MAX_IDLE_AGE = std::chrono::seconds(118);
constexpr auto DNS_CACHE_TTL = std::chrono::seconds(60);
// A connection idle for longer is checked (one non-blocking peek) before it is reused; a
// busy pool is not. A connection the server closed anyway is retried once, as curl does.
constexpr auto LIVENESS_CHECK_AFTER = std::chrono::seconds(1);

struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

// Upstream response headers the gateway acts on: the body's type, and what providers say
// about rate limits. The rest are not copied (a few allocations per response saved).
// ASCII case-insensitive equality with a lower-case literal; sizes first, as most
// comparisons on the hot path fail on the size alone.
bool equalsIgnoringCase(QByteArrayView text, QByteArrayView lower)
{
    if (text.size() != lower.size()) {
        return false;
    }
    for (qsizetype i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c + ('a' - 'A'));
        }
        if (c != lower[i]) {
            return false;
        }
    }
    return true;
}

bool startsWithIgnoringCase(QByteArrayView text, QByteArrayView lowerPrefix)
{
    return text.size() > lowerPrefix.size() && equalsIgnoringCase(text.first(lowerPrefix.size()), lowerPrefix);
}

bool isKeptResponseHeader(QByteArrayView name)
{
    return equalsIgnoringCase(name, "content-type") || equalsIgnoringCase(name, "retry-after") ||
           startsWithIgnoringCase(name, "x-ratelimit-") || startsWithIgnoringCase(name, "anthropic-ratelimit-");
}

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

// --- built-in HTTP/1.1 client: data -----------------------------------------------------

namespace {

using Clock = std::chrono::steady_clock;

struct Address {
    sockaddr_storage storage {};
    socklen_t length = 0;
};

// A host name being resolved on a helper thread: getaddrinfo() blocks, the worker must not.
struct ResolveJob {
    std::mutex mutex;
    bool done = false;
    std::vector<Address> addresses;
};

// Characters curl sends in a path or query exactly as given (it re-encodes others).
bool isPlainTargetChar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::strchr("-._~/%!$&'()*+,;=:@?", c) != nullptr;
}

bool hasDotSegment(QByteArrayView path)
{
    // "/./" and "/../" (and at the end) are normalised away by curl.
    for (qsizetype i = 0; i + 1 < path.size(); ++i) {
        if (path[i] != '/' || path[i + 1] != '.') {
            continue;
        }
        const qsizetype next = i + 2;
        if (next == path.size() || path[next] == '/' || path[next] == '?') {
            return true;
        }
        if (path[next] == '.' && (next + 1 == path.size() || path[next + 1] == '/' || path[next + 1] == '?')) {
            return true;
        }
    }
    return false;
}

} // namespace

// One upstream host and port: its addresses and its idle keep-alive connections.
struct PlainOrigin {
    QByteArray host; // as in the URL (an IPv6 literal without brackets)
    quint16 port = 80;
    bool literal = false;
    std::vector<Address> addresses;
    Clock::time_point resolvedAt;
    std::shared_ptr<ResolveJob> job;
    std::vector<PlainConnection *> idle; // most recently used last
};

// What the built-in client needs from one URL, parsed once.
struct PlainRoute {
    bool usable = false;  // false: the URL needs curl
    QByteArray target;    // path and query, as sent on the request line
    QByteArray hostLine;  // "Host: ...\r\n"
    PlainOrigin *origin = nullptr;
};

// A transfer's state on the built-in client.
struct PlainState {
    enum class Phase { Connecting, Sending, Head, Body, Finished };
    enum class Framing { Length, Chunked, UntilClose, None };
    enum class Chunk { Size, Data, DataEnd, Trailer };

    PlainOrigin *origin = nullptr;
    PlainConnection *connection = nullptr;
    QByteArray head;          // request line and headers
    qsizetype sent = 0;       // of head + body
    std::size_t addressIndex = 0;
    Phase phase = Phase::Connecting;
    Framing framing = Framing::Length;
    Chunk chunk = Chunk::Size;
    qint64 remaining = 0;     // Length: body bytes to come; Chunked: of the current chunk
    Clock::time_point firstByteDeadline;
    bool keepAlive = true;
    bool reusedConnection = false;
    bool retried = false;
    bool queued = false;      // in CurlMulti::m_plainQueue
    int finishCode = 0;       // Finished: the outcome, reported from the event loop
};

// One TCP connection of the built-in client, kept across requests (keep-alive). Owned by
// the CurlMulti; lent to one Transfer at a time.
class PlainConnection final : public QObject {
public:
    PlainConnection(CurlMulti &multi, PlainOrigin &origin, int descriptor)
        : QObject {&multi}
        , m_descriptor {descriptor}
        , m_origin {&origin}
        , m_read {new QSocketNotifier(descriptor, QSocketNotifier::Read, this)}
        , m_write {new QSocketNotifier(descriptor, QSocketNotifier::Write, this)}
    {
        m_read->setEnabled(false);
        m_write->setEnabled(false);
        connect(m_read, &QSocketNotifier::activated, &multi, [&multi, this] { multi.onPlainActivity(this, true); });
        connect(m_write, &QSocketNotifier::activated, &multi, [&multi, this] { multi.onPlainActivity(this, false); });
    }
    ~PlainConnection() override { closeDescriptor(); }
    Q_DISABLE_COPY_MOVE(PlainConnection)

    int descriptor() const { return m_descriptor; }
    PlainOrigin *origin() const { return m_origin; }

    void watch(bool read, bool write)
    {
        if (m_read->isEnabled() != read) {
            m_read->setEnabled(read);
        }
        if (m_write->isEnabled() != write) {
            m_write->setEnabled(write);
        }
    }

    // Switched off, not deleted: this may run inside a notifier's activation.
    void closeDescriptor()
    {
        if (m_descriptor < 0) {
            return;
        }
        m_read->setEnabled(false);
        m_write->setEnabled(false);
        ::close(m_descriptor);
        m_descriptor = -1;
    }

    qsizetype buffered() const { return m_end - m_begin; }
    const char *data() const { return m_buffer.data() + m_begin; }
    void consume(qsizetype bytes)
    {
        m_begin += bytes;
        if (m_begin == m_end) {
            m_begin = m_end = 0;
        }
    }
    // Room to receive into: moves unread bytes to the front, grows up to `limit`.
    qsizetype prepareSpace(qsizetype limit)
    {
        if (m_buffer.empty()) {
            m_buffer.resize(static_cast<std::size_t>(PLAIN_READ_CHUNK));
        }
        if (m_begin > 0 && m_end == static_cast<qsizetype>(m_buffer.size())) {
            std::memmove(m_buffer.data(), m_buffer.data() + m_begin, static_cast<std::size_t>(m_end - m_begin));
            m_end -= m_begin;
            m_begin = 0;
        }
        if (m_end == static_cast<qsizetype>(m_buffer.size()) && static_cast<qsizetype>(m_buffer.size()) < limit) {
            m_buffer.resize(std::min<std::size_t>(m_buffer.size() * 2, static_cast<std::size_t>(limit)));
        }
        return static_cast<qsizetype>(m_buffer.size()) - m_end;
    }
    char *space() { return m_buffer.data() + m_end; }
    void received(qsizetype bytes) { m_end += bytes; }
    void clearBuffer() { m_begin = m_end = 0; }

    Transfer *owner = nullptr;
    Clock::time_point idleSince;
    int requests = 0; // answered on this connection

private:
    int m_descriptor;
    PlainOrigin *m_origin;
    QSocketNotifier *m_read;
    QSocketNotifier *m_write;
    std::vector<char> m_buffer;
    qsizetype m_begin = 0;
    qsizetype m_end = 0;
};

CurlMulti::CurlMulti(QObject *parent)
    : QObject {parent}
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
    for (PlainConnection *connection : m_connections) {
        delete connection;
    }
    qDeleteAll(m_plainRoutes);
    qDeleteAll(m_plainOrigins);
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
    if (transfer->m_easy) {
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
        transfer.reset(new Transfer(*this, std::move(request), observer));
        m_active.push_back(transfer.get());
        transfer->m_attached = true;
        curl_multi_add_handle(m_multi, transfer->m_easy);
        m_curlAdded = true;
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
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    // Over TLS, wait for a connection that might offer HTTP/2 multiplexing rather than
    // opening a parallel one. Plain HTTP/1.1 never multiplexes, and waiting there
    // serialises a burst of new requests behind the first connect.
    curl_easy_setopt(easy, CURLOPT_PIPEWAIT, m_request.url.startsWith("https:") ? 1L : 0L);
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
            m_multi.releaseConnection(m_plain->connection, false);
            m_plain->connection = nullptr;
        }
        m_multi.detach(this);
        return;
    }
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

void Transfer::complete(int curlCode)
{
    TransferResult result;
    long status = 0;
    curl_easy_getinfo(m_easy, CURLINFO_RESPONSE_CODE, &status);
    result.status = static_cast<int>(status);
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
            m_multi.releaseConnection(m_plain->connection, false);
            m_plain->connection = nullptr;
        }
        m_multi.detach(this);
        result.status = m_headDelivered ? m_plainStatus : 0;
        m_observer.onComplete(result); // may delete this
        return;
    }
    m_multi.detach(this);
    long status = 0;
    curl_easy_getinfo(m_easy, CURLINFO_RESPONSE_CODE, &status);
    result.status = static_cast<int>(status);
    m_observer.onComplete(result); // may delete this
}

// --- built-in HTTP/1.1 client -----------------------------------------------------------

PlainRoute *CurlMulti::plainRouteFor(const UpstreamRequest &request)
{
    if (!m_plainEnabled || m_honourProxyEnvironment) {
        return nullptr;
    }
    PlainRoute *&route = m_plainRoutes[request.url];
    if (!route) {
        route = new PlainRoute;
        // http://host[:port][/path][?query]; anything else (TLS, user info, a fragment,
        // characters curl would re-encode, dot segments) is curl's.
        const QByteArrayView url {request.url};
        constexpr QByteArrayView scheme {"http://"};
        if (url.size() > scheme.size() && url.first(scheme.size()) == scheme) {
            const QByteArrayView rest = url.sliced(scheme.size());
            qsizetype authorityEnd = 0;
            while (authorityEnd < rest.size() && rest[authorityEnd] != '/' && rest[authorityEnd] != '?' &&
                   rest[authorityEnd] != '#') {
                ++authorityEnd;
            }
            const QByteArrayView authority = rest.first(authorityEnd);
            QByteArrayView target = rest.sliced(authorityEnd);
            QByteArrayView host;
            QByteArrayView port;
            bool ok = !authority.isEmpty() && !authority.contains('@');
            if (ok && authority.startsWith('[')) {
                const qsizetype close = authority.indexOf(']');
                ok = close > 1;
                if (ok) {
                    host = authority.sliced(1, close - 1);
                    const QByteArrayView after = authority.sliced(close + 1);
                    ok = after.isEmpty() || after.startsWith(':');
                    port = after.isEmpty() ? QByteArrayView {} : after.sliced(1);
                }
            } else if (ok) {
                const qsizetype colon = authority.indexOf(':');
                host = colon < 0 ? authority : authority.first(colon);
                port = colon < 0 ? QByteArrayView {} : authority.sliced(colon + 1);
            }
            int portNumber = 80;
            if (ok && !port.isEmpty()) {
                portNumber = 0;
                for (const char c : port) {
                    ok = ok && c >= '0' && c <= '9' && portNumber < 65536;
                    portNumber = portNumber * 10 + (c - '0');
                }
                ok = ok && port.size() <= 5 && portNumber > 0 && portNumber < 65536;
            }
            for (const char c : host) {
                // Lower-case host names and IP literals only: curl sends those unchanged.
                ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == ':');
            }
            ok = ok && !host.isEmpty();
            if (target.isEmpty()) {
                target = "/";
            }
            ok = ok && target.startsWith('/') && !hasDotSegment(target);
            for (const char c : target) {
                ok = ok && isPlainTargetChar(c);
            }
            Address literal;
            bool isLiteral = false;
            if (ok) {
                auto *v4 = reinterpret_cast<sockaddr_in *>(&literal.storage);
                auto *v6 = reinterpret_cast<sockaddr_in6 *>(&literal.storage);
                const QByteArray hostText = host.toByteArray();
                if (::inet_pton(AF_INET, hostText.constData(), &v4->sin_addr) == 1) {
                    v4->sin_family = AF_INET;
                    v4->sin_port = htons(static_cast<quint16>(portNumber));
                    literal.length = sizeof(sockaddr_in);
                    isLiteral = true;
                } else if (::inet_pton(AF_INET6, hostText.constData(), &v6->sin6_addr) == 1) {
                    v6->sin6_family = AF_INET6;
                    v6->sin6_port = htons(static_cast<quint16>(portNumber));
                    literal.length = sizeof(sockaddr_in6);
                    isLiteral = true;
                } else {
                    ok = !host.contains(':');
                }
            }
            if (ok) {
                const bool ipv6 = host.contains(':');
                QByteArray hostPort = (ipv6 ? "[" + host.toByteArray() + "]" : host.toByteArray());
                if (portNumber != 80) {
                    hostPort += ':' + QByteArray::number(portNumber);
                }
                const QByteArray originKey = hostPort + (portNumber == 80 ? ":80" : "");
                PlainOrigin *&origin = m_plainOrigins[originKey];
                if (!origin) {
                    origin = new PlainOrigin;
                    origin->host = host.toByteArray();
                    origin->port = static_cast<quint16>(portNumber);
                    origin->literal = isLiteral;
                    if (isLiteral) {
                        origin->addresses.push_back(literal);
                    }
                }
                route->usable = true;
                route->target = target.toByteArray();
                route->hostLine = "Host: " + hostPort + "\r\n";
                route->origin = origin;
            }
        }
    }
    if (!route->usable) {
        return nullptr;
    }
    // Methods and headers curl treats specially stay with curl.
    if (request.method != "POST" && request.method != "GET") {
        return nullptr;
    }
    for (const QByteArray &line : request.headers) {
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0 || line.contains('\r') || line.contains('\n')) {
            return nullptr;
        }
        const QByteArrayView name = QByteArrayView {line}.first(colon);
        if (equalsIgnoringCase(name, "host") || equalsIgnoringCase(name, "content-length") ||
            equalsIgnoringCase(name, "transfer-encoding") || equalsIgnoringCase(name, "connection") ||
            equalsIgnoringCase(name, "te") || equalsIgnoringCase(name, "upgrade") ||
            (equalsIgnoringCase(name, "expect") && !QByteArrayView {line}.sliced(colon + 1).trimmed().isEmpty())) {
            return nullptr;
        }
    }
    PlainOrigin &origin = *route->origin;
    if (!origin.literal) {
        // Host names are resolved off the worker thread and kept for DNS_CACHE_TTL; until
        // the first answer arrives, curl (with its own resolver) serves the requests.
        const auto now = Clock::now();
        if (origin.job) {
            const std::lock_guard lock {origin.job->mutex};
            if (origin.job->done) {
                if (!origin.job->addresses.empty()) {
                    origin.addresses = std::move(origin.job->addresses);
                }
                origin.resolvedAt = now;
                origin.job.reset();
            }
        }
        const bool stale = origin.addresses.empty() || now - origin.resolvedAt > DNS_CACHE_TTL;
        if (stale && !origin.job) {
            auto job = std::make_shared<ResolveJob>();
            origin.job = job;
            std::thread([job, host = origin.host, port = QByteArray::number(origin.port)] {
                addrinfo hints {};
                hints.ai_family = AF_UNSPEC;
                hints.ai_socktype = SOCK_STREAM;
                addrinfo *result = nullptr;
                std::vector<Address> addresses;
                if (::getaddrinfo(host.constData(), port.constData(), &hints, &result) == 0) {
                    for (addrinfo *entry = result; entry; entry = entry->ai_next) {
                        if (entry->ai_addrlen <= sizeof(sockaddr_storage)) {
                            Address address;
                            std::memcpy(&address.storage, entry->ai_addr, entry->ai_addrlen);
                            address.length = static_cast<socklen_t>(entry->ai_addrlen);
                            addresses.push_back(address);
                        }
                    }
                    ::freeaddrinfo(result);
                }
                const std::lock_guard lock {job->mutex};
                job->addresses = std::move(addresses);
                job->done = true;
            }).detach();
        }
        if (origin.addresses.empty()) {
            return nullptr;
        }
    }
    return route;
}

void CurlMulti::schedulePlainQueue()
{
    if (m_plainQueueScheduled) {
        return;
    }
    m_plainQueueScheduled = true;
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_plainQueueScheduled = false;
            if (m_actionDepth == 0) {
                runPlainQueue();
            } else {
                schedulePlainQueue();
            }
        },
        Qt::QueuedConnection);
}

void CurlMulti::runPlainQueue()
{
    // One at a time: each may finish transfers, whose observers may start or cancel others.
    while (!m_plainQueue.empty()) {
        Transfer *transfer = m_plainQueue.front();
        m_plainQueue.erase(m_plainQueue.begin());
        transfer->m_plain->queued = false;
        if (transfer->m_plain->phase == PlainState::Phase::Finished) {
            transfer->plainReport(transfer->m_plain->finishCode);
        } else if (!transfer->m_paused && transfer->m_plain->connection) {
            transfer->plainProcessInput(false); // resumed with bytes already received
        }
    }
}

void CurlMulti::onPlainActivity(PlainConnection *connection, bool readable)
{
    Transfer *transfer = connection->owner;
    if (!transfer) {
        // An idle connection is not watched; a stray activation means nothing.
        connection->watch(false, false);
        return;
    }
    if (readable) {
        transfer->plainOnReadable();
    } else {
        transfer->plainOnWritable();
    }
}

PlainConnection *CurlMulti::takeIdleConnection(PlainOrigin &origin)
{
    const auto now = Clock::now();
    while (!origin.idle.empty()) {
        PlainConnection *connection = origin.idle.back();
        origin.idle.pop_back();
        --m_idleConnections;
        bool alive = now - connection->idleSince <= MAX_IDLE_AGE;
        if (alive && now - connection->idleSince > LIVENESS_CHECK_AFTER) {
            // Quiet for a while: the server may have closed it meanwhile.
            char byte;
            const ssize_t n = ::recv(connection->descriptor(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
            alive = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        }
        if (alive) {
            return connection;
        }
        forgetConnection(connection);
    }
    return nullptr;
}

void CurlMulti::releaseConnection(PlainConnection *connection, bool reusable)
{
    connection->owner = nullptr;
    if (reusable && connection->buffered() == 0 && m_idleConnections < MAX_IDLE_CONNECTIONS) {
        connection->watch(false, false);
        connection->idleSince = Clock::now();
        ++connection->requests;
        connection->origin()->idle.push_back(connection);
        ++m_idleConnections;
        return;
    }
    forgetConnection(connection);
}

void CurlMulti::forgetConnection(PlainConnection *connection)
{
    connection->closeDescriptor();
    const auto it = std::find(m_connections.begin(), m_connections.end(), connection);
    if (it != m_connections.end()) {
        *it = m_connections.back();
        m_connections.pop_back();
    }
    connection->deleteLater(); // may be inside one of its notifiers' activation
}

Transfer::Transfer(CurlMulti &multi, UpstreamRequest &&request, TransferObserver &observer, PlainRoute &route)
    : m_multi {multi}
    , m_request {std::move(request)}
    , m_observer {observer}
    , m_headerList {nullptr, &curl_slist_free_all}
    , m_plain {std::make_unique<PlainState>()}
{
    // The request head curl would send: request line, Host, Accept unless the caller
    // set one, the caller's headers (a "Name:" line without a value only removes a
    // default), Content-Length and, when none was given, curl's default Content-Type.
    const bool post = m_request.method == "POST";
    bool customAccept = false;
    bool customContentType = false;
    qsizetype headerBytes = 0;
    for (const QByteArray &line : m_request.headers) {
        const QByteArrayView name = QByteArrayView {line}.first(line.indexOf(':'));
        customAccept = customAccept || equalsIgnoringCase(name, "accept");
        customContentType = customContentType || equalsIgnoringCase(name, "content-type");
        headerBytes += line.size() + 2;
    }
    QByteArray &head = m_plain->head;
    head.reserve(route.target.size() + route.hostLine.size() + headerBytes + 96);
    head += m_request.method;
    head += ' ';
    head += route.target;
    head += " HTTP/1.1\r\n";
    head += route.hostLine;
    if (!customAccept) {
        head += "Accept: */*\r\n";
    }
    for (const QByteArray &line : m_request.headers) {
        const qsizetype colon = line.indexOf(':');
        if (QByteArrayView {line}.sliced(colon + 1).trimmed().isEmpty()) {
            continue;
        }
        head += line;
        head += "\r\n";
    }
    if (post) {
        head += "Content-Length: ";
        head += QByteArray::number(m_request.body.size());
        head += "\r\n";
        if (!customContentType) {
            head += "Content-Type: application/x-www-form-urlencoded\r\n";
        }
    }
    head += "\r\n";
    if (!post) {
        m_request.body.clear();
    }
    m_plain->origin = route.origin;
    m_deadline = Clock::now() + std::chrono::milliseconds(m_request.firstByteTimeoutMs);
    m_plain->firstByteDeadline = m_deadline;
}

bool Transfer::plainBegin()
{
    PlainState &plain = *m_plain;
    plain.sent = 0;
    plain.addressIndex = 0;
    plain.reusedConnection = false;
    if (!plain.retried) {
        if (PlainConnection *connection = m_multi.takeIdleConnection(*plain.origin)) {
            connection->owner = this;
            plain.connection = connection;
            plain.reusedConnection = true;
            plain.phase = PlainState::Phase::Sending;
            return plainSend();
        }
    }
    return plainConnect();
}

bool Transfer::plainConnect()
{
    PlainState &plain = *m_plain;
    const std::vector<Address> &addresses = plain.origin->addresses;
    while (plain.addressIndex < addresses.size()) {
        const Address &address = addresses[plain.addressIndex++];
        const int descriptor = ::socket(address.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
        if (descriptor < 0) {
            continue;
        }
        // As curl sets them: CURLOPT_TCP_NODELAY, CURLOPT_TCP_KEEPALIVE (60 s idle, 60 s interval).
        const int one = 1;
        const int keepAliveSeconds = 60;
        ::setsockopt(descriptor, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(descriptor, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        ::setsockopt(descriptor, IPPROTO_TCP, TCP_KEEPIDLE, &keepAliveSeconds, sizeof keepAliveSeconds);
        ::setsockopt(descriptor, IPPROTO_TCP, TCP_KEEPINTVL, &keepAliveSeconds, sizeof keepAliveSeconds);
        const int result = ::connect(descriptor, reinterpret_cast<const sockaddr *>(&address.storage), address.length);
        if (result < 0 && errno != EINPROGRESS) {
            ::close(descriptor);
            continue;
        }
        auto *connection = new PlainConnection(m_multi, *plain.origin, descriptor);
        m_multi.m_connections.push_back(connection);
        connection->owner = this;
        plain.connection = connection;
        if (result == 0) {
            plain.phase = PlainState::Phase::Sending;
            return plainSend();
        }
        plain.phase = PlainState::Phase::Connecting;
        m_deadline = std::min(plain.firstByteDeadline,
                              Clock::now() + std::chrono::milliseconds(m_request.connectTimeoutMs));
        connection->watch(false, true);
        return true;
    }
    return plainFinish(CURLE_COULDNT_CONNECT, false);
}

bool Transfer::plainOnWritable()
{
    PlainState &plain = *m_plain;
    if (plain.phase == PlainState::Phase::Connecting) {
        int error = 0;
        socklen_t length = sizeof error;
        if (::getsockopt(plain.connection->descriptor(), SOL_SOCKET, SO_ERROR, &error, &length) < 0) {
            error = errno;
        }
        if (error == EINPROGRESS || error == EALREADY) {
            return true;
        }
        if (error != 0) {
            m_multi.releaseConnection(plain.connection, false);
            plain.connection = nullptr;
            m_deadline = plain.firstByteDeadline;
            return plainConnect(); // the next address, if any
        }
        m_deadline = plain.firstByteDeadline;
        plain.phase = PlainState::Phase::Sending;
    }
    if (plain.phase == PlainState::Phase::Sending) {
        return plainSend();
    }
    plain.connection->watch(!m_paused, false);
    return true;
}

bool Transfer::plainSend()
{
    PlainState &plain = *m_plain;
    PlainConnection &connection = *plain.connection;
    const qsizetype total = plain.head.size() + m_request.body.size();
    while (plain.sent < total) {
        iovec parts[2];
        int count = 0;
        if (plain.sent < plain.head.size()) {
            parts[count++] = {const_cast<char *>(plain.head.constData()) + plain.sent,
                              static_cast<size_t>(plain.head.size() - plain.sent)};
        }
        const qsizetype bodySent = std::max<qsizetype>(0, plain.sent - plain.head.size());
        if (bodySent < m_request.body.size()) {
            parts[count++] = {const_cast<char *>(m_request.body.constData()) + bodySent,
                              static_cast<size_t>(m_request.body.size() - bodySent)};
        }
        msghdr message {};
        message.msg_iov = parts;
        message.msg_iovlen = static_cast<size_t>(count);
        const ssize_t n = ::sendmsg(connection.descriptor(), &message, MSG_NOSIGNAL);
        if (n > 0) {
            plain.sent += n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            connection.watch(false, true);
            return true;
        }
        return plainRetryOrFail(CURLE_SEND_ERROR);
    }
    plain.phase = PlainState::Phase::Head;
    connection.watch(!m_paused, false);
    return true;
}

bool Transfer::plainOnReadable()
{
    PlainState &plain = *m_plain;
    if (plain.phase < PlainState::Phase::Head) {
        // Not asked for; the head is read once the request is out.
        plain.connection->watch(false, true);
        return true;
    }
    for (;;) {
        PlainConnection &connection = *plain.connection;
        const qsizetype limit = plain.phase == PlainState::Phase::Head ? MAX_RESPONSE_HEAD_BYTES + PLAIN_READ_CHUNK
                                                                       : PLAIN_READ_CHUNK;
        const qsizetype space = connection.prepareSpace(limit);
        if (space <= 0) {
            return plainProcessInput(false); // a head larger than the limit fails there
        }
        const ssize_t n = ::recv(connection.descriptor(), connection.space(), static_cast<size_t>(space), 0);
        if (n > 0) {
            connection.received(n);
            if (!plainProcessInput(false)) {
                return false;
            }
            if (n < space || m_paused || !plain.connection) {
                return true; // drained for now; level-triggered notifiers report the rest
            }
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return true;
        }
        if (n == 0) {
            return plainProcessInput(true);
        }
        return plainRetryOrFail(CURLE_RECV_ERROR);
    }
}

bool Transfer::plainRetryOrFail(int curlCode)
{
    PlainState &plain = *m_plain;
    // A reused connection the server had closed: nothing of the answer arrived, so the
    // request is sent again on a new connection, once (curl does the same).
    const bool nothingReceived = plain.phase <= PlainState::Phase::Head && !m_headDelivered &&
                                 (!plain.connection || plain.connection->buffered() == 0);
    if (plain.reusedConnection && !plain.retried && nothingReceived) {
        plain.retried = true;
        m_multi.releaseConnection(plain.connection, false);
        plain.connection = nullptr;
        return plainBegin();
    }
    return plainFinish(curlCode, false);
}

bool Transfer::plainDeliver(const char *data, qsizetype size)
{
    m_bodyStarted = true;
    if (!m_observer.onResponseData(QByteArrayView {data, size})) {
        m_abortedByObserver = true;
        return false;
    }
    return true;
}

bool Transfer::plainProcessInput(bool eof)
{
    PlainState &plain = *m_plain;
    PlainConnection &connection = *plain.connection;

    while (plain.phase == PlainState::Phase::Head) {
        const QByteArrayView input {connection.data(), connection.buffered()};
        qsizetype headEnd = -1;
        qsizetype headLength = 0;
        for (qsizetype i = input.indexOf('\n'); i >= 0; i = input.indexOf('\n', i + 1)) {
            if (i + 1 < input.size() && input[i + 1] == '\n') {
                headEnd = i + 2;
                break;
            }
            if (i + 2 < input.size() && input[i + 1] == '\r' && input[i + 2] == '\n') {
                headEnd = i + 3;
                break;
            }
        }
        if (headEnd < 0) {
            if (input.size() > MAX_RESPONSE_HEAD_BYTES) {
                return plainFinish(CURLE_RECV_ERROR, false);
            }
            if (eof) {
                return input.isEmpty() ? plainRetryOrFail(CURLE_GOT_NOTHING) : plainFinish(CURLE_RECV_ERROR, false);
            }
            return true;
        }
        headLength = headEnd;
        const QByteArrayView headText = input.first(headLength);
        qsizetype lineEnd = headText.indexOf('\n');
        QByteArrayView statusLine = headText.first(lineEnd);
        if (statusLine.endsWith('\r')) {
            statusLine.chop(1);
        }
        // "HTTP/1.x SSS reason"
        if (statusLine.size() < 12 || !statusLine.startsWith("HTTP/1.") || statusLine[8] != ' ' ||
            (statusLine.size() > 12 && statusLine[12] != ' ')) {
            return plainFinish(CURLE_WEIRD_SERVER_REPLY, false);
        }
        int status = 0;
        for (qsizetype i = 9; i < 12; ++i) {
            if (statusLine[i] < '0' || statusLine[i] > '9') {
                return plainFinish(CURLE_WEIRD_SERVER_REPLY, false);
            }
            status = status * 10 + (statusLine[i] - '0');
        }
        const bool http10 = statusLine[7] == '0';
        bool keepAlive = !http10;
        bool chunked = false;
        qint64 contentLength = -1;
        m_responseHeaders.clear();
        qsizetype lineStart = lineEnd + 1;
        while (lineStart < headLength) {
            lineEnd = headText.indexOf('\n', lineStart);
            QByteArrayView line = headText.sliced(lineStart, lineEnd - lineStart);
            lineStart = lineEnd + 1;
            if (line.endsWith('\r')) {
                line.chop(1);
            }
            const qsizetype colon = line.indexOf(':');
            if (line.isEmpty() || colon <= 0) {
                continue;
            }
            const QByteArrayView name = line.first(colon);
            const QByteArrayView value = line.sliced(colon + 1).trimmed();
            if (equalsIgnoringCase(name, "content-length")) {
                bool ok = !value.isEmpty();
                qint64 length = 0;
                for (const char c : value) {
                    ok = ok && c >= '0' && c <= '9' && length < (Q_INT64_C(1) << 56);
                    length = length * 10 + (c - '0');
                }
                if (!ok || (contentLength >= 0 && contentLength != length)) {
                    return plainFinish(CURLE_WEIRD_SERVER_REPLY, false);
                }
                contentLength = length;
            } else if (equalsIgnoringCase(name, "transfer-encoding")) {
                const qsizetype comma = value.lastIndexOf(',');
                chunked = equalsIgnoringCase(comma < 0 ? value : value.sliced(comma + 1).trimmed(), "chunked");
            } else if (equalsIgnoringCase(name, "connection")) {
                for (QByteArrayView token : QByteArray(value.toByteArray()).split(',')) {
                    token = token.trimmed();
                    if (equalsIgnoringCase(token, "close")) {
                        keepAlive = false;
                    } else if (equalsIgnoringCase(token, "keep-alive")) {
                        keepAlive = true;
                    }
                }
            }
            if (isKeptResponseHeader(name)) {
                Http::Header header;
                header.name = name.toByteArray().toLower();
                header.value = value.toByteArray();
                m_responseHeaders.push_back(std::move(header));
            }
        }
        connection.consume(headLength);
        if (status >= 100 && status < 200) {
            if (status == 101) {
                return plainFinish(CURLE_WEIRD_SERVER_REPLY, false);
            }
            m_responseHeaders.clear(); // interim response: the real one follows
            continue;
        }
        plain.keepAlive = keepAlive;
        if (status == 204 || status == 304) {
            plain.framing = PlainState::Framing::None;
        } else if (chunked) {
            plain.framing = PlainState::Framing::Chunked;
            plain.chunk = PlainState::Chunk::Size;
        } else if (contentLength >= 0) {
            plain.framing = contentLength == 0 ? PlainState::Framing::None : PlainState::Framing::Length;
            plain.remaining = contentLength;
        } else {
            plain.framing = PlainState::Framing::UntilClose;
            plain.keepAlive = false;
        }
        plain.phase = PlainState::Phase::Body;
        m_plainStatus = status;
        m_headDelivered = true;
        m_observer.onResponseHead(status, m_responseHeaders);
        if (plain.framing == PlainState::Framing::None) {
            return plainFinish(CURLE_OK, plain.keepAlive && connection.buffered() == 0);
        }
    }

    // The body. Deadline: the idle timeout runs from the latest bytes.
    if (connection.buffered() > 0) {
        m_deadline = Clock::now() + std::chrono::milliseconds(m_request.idleTimeoutMs);
    }
    while (!m_paused) {
        switch (plain.framing) {
        case PlainState::Framing::Length: {
            const qsizetype take = static_cast<qsizetype>(std::min<qint64>(plain.remaining, connection.buffered()));
            if (take > 0) {
                const char *data = connection.data();
                connection.consume(take);
                plain.remaining -= take;
                if (!plainDeliver(data, take)) {
                    return plainFinish(CURLE_WRITE_ERROR, false);
                }
            }
            if (plain.remaining == 0) {
                // Bytes beyond the announced length: the connection cannot be trusted.
                return plainFinish(CURLE_OK, plain.keepAlive && connection.buffered() == 0);
            }
            if (eof) {
                return plainFinish(CURLE_PARTIAL_FILE, false);
            }
            return true;
        }
        case PlainState::Framing::UntilClose: {
            const qsizetype take = connection.buffered();
            if (take > 0) {
                const char *data = connection.data();
                connection.consume(take);
                if (!plainDeliver(data, take)) {
                    return plainFinish(CURLE_WRITE_ERROR, false);
                }
                continue; // re-check pause
            }
            return eof ? plainFinish(CURLE_OK, false) : true;
        }
        case PlainState::Framing::Chunked: {
            if (plain.chunk == PlainState::Chunk::Data) {
                const qsizetype take = static_cast<qsizetype>(std::min<qint64>(plain.remaining, connection.buffered()));
                if (take > 0) {
                    const char *data = connection.data();
                    connection.consume(take);
                    plain.remaining -= take;
                    if (!plainDeliver(data, take)) {
                        return plainFinish(CURLE_WRITE_ERROR, false);
                    }
                }
                if (plain.remaining == 0) {
                    plain.chunk = PlainState::Chunk::DataEnd;
                    continue;
                }
                return eof ? plainFinish(CURLE_PARTIAL_FILE, false) : true;
            }
            // Size, DataEnd and Trailer work on whole lines.
            const QByteArrayView input {connection.data(), connection.buffered()};
            const qsizetype newline = input.indexOf('\n');
            if (newline < 0) {
                if (input.size() > MAX_RESPONSE_HEAD_BYTES) {
                    return plainFinish(CURLE_RECV_ERROR, false);
                }
                return eof ? plainFinish(CURLE_PARTIAL_FILE, false) : true;
            }
            QByteArrayView line = input.first(newline);
            if (line.endsWith('\r')) {
                line.chop(1);
            }
            connection.consume(newline + 1);
            if (plain.chunk == PlainState::Chunk::DataEnd) {
                if (!line.isEmpty()) {
                    return plainFinish(CURLE_RECV_ERROR, false);
                }
                plain.chunk = PlainState::Chunk::Size;
                continue;
            }
            if (plain.chunk == PlainState::Chunk::Trailer) {
                if (line.isEmpty()) {
                    return plainFinish(CURLE_OK, plain.keepAlive && connection.buffered() == 0);
                }
                continue; // trailer fields are not used
            }
            // Size line: hex digits, then optional extensions after ';'.
            qint64 size = 0;
            qsizetype digits = 0;
            for (; digits < line.size(); ++digits) {
                const char c = line[digits];
                int value = -1;
                if (c >= '0' && c <= '9') {
                    value = c - '0';
                } else if (c >= 'a' && c <= 'f') {
                    value = c - 'a' + 10;
                } else if (c >= 'A' && c <= 'F') {
                    value = c - 'A' + 10;
                } else {
                    break;
                }
                if (size >= (Q_INT64_C(1) << 56)) {
                    return plainFinish(CURLE_RECV_ERROR, false);
                }
                size = size * 16 + value;
            }
            const QByteArrayView rest = line.sliced(digits).trimmed();
            if (digits == 0 || (!rest.isEmpty() && !rest.startsWith(';'))) {
                return plainFinish(CURLE_RECV_ERROR, false);
            }
            if (size == 0) {
                plain.chunk = PlainState::Chunk::Trailer;
            } else {
                plain.chunk = PlainState::Chunk::Data;
                plain.remaining = size;
            }
            continue;
        }
        case PlainState::Framing::None:
            return plainFinish(CURLE_OK, plain.keepAlive && connection.buffered() == 0);
        }
    }
    // Paused with bytes still buffered: resumeReceiving() hands them on.
    return true;
}

bool Transfer::plainFinish(int curlCode, bool reusable)
{
    PlainState &plain = *m_plain;
    if (plain.connection) {
        m_multi.releaseConnection(plain.connection, reusable && curlCode == CURLE_OK);
        plain.connection = nullptr;
    }
    if (m_multi.m_plainStarting) {
        // Still inside start(): the caller does not hold the transfer yet.
        plain.phase = PlainState::Phase::Finished;
        plain.finishCode = curlCode;
        plain.queued = true;
        m_multi.m_plainQueue.push_back(this);
        m_multi.schedulePlainQueue();
        return false;
    }
    return plainReport(curlCode);
}

bool Transfer::plainReport(int curlCode)
{
    m_multi.detach(this);
    TransferResult result;
    result.status = m_headDelivered ? m_plainStatus : 0;
    const auto code = static_cast<CURLcode>(curlCode);
    switch (code) {
    case CURLE_OK:
        result.error = TransferError::None;
        break;
    case CURLE_COULDNT_CONNECT:
        result.error = TransferError::ConnectFailed;
        break;
    case CURLE_WRITE_ERROR:
        result.error = m_abortedByObserver ? TransferError::Aborted : TransferError::Other;
        break;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        result.error = TransferError::Reset;
        break;
    default:
        result.error = TransferError::Other;
        break;
    }
    if (code != CURLE_OK) {
        result.errorText = curl_easy_strerror(code);
    }
    m_observer.onComplete(result); // may delete this
    return false;
}

} // namespace Gateway::Upstream
