// The built-in HTTP/1.1 client's half of CurlMulti and Transfer: choosing it for a
// request, connecting, sending the request curl would send, and reading the response
// through a ResponseFramer. (curlmulti.cpp holds the libcurl half.)

#include "curlmulti.h"

#include "headermatch.h"
#include "plainconnection.h"
#include "plainroute.h"
#include "plaintransfer.h"

#include <QSocketNotifier>

#include <curl/curl.h>

#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>

namespace Gateway::Upstream {

namespace {

constexpr qsizetype READ_CHUNK = 16 * 1024;

} // namespace

// --- CurlMulti ----------------------------------------------------------------------------

PlainRoute *CurlMulti::plainRouteFor(const UpstreamRequest &request)
{
    // The built-in client speaks HTTP/1.1 only.
    if (!m_plainEnabled || m_honourProxyEnvironment || request.http2PriorKnowledge) {
        return nullptr;
    }
    return m_plainRoutes->find(request);
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

PlainConnection *CurlMulti::openConnection(PlainOrigin &origin, int descriptor)
{
    auto *connection = new PlainConnection(this, origin, descriptor);
    connect(connection->readNotifier(), &QSocketNotifier::activated, this,
            [this, connection] { onPlainActivity(connection, true); });
    connect(connection->writeNotifier(), &QSocketNotifier::activated, this,
            [this, connection] { onPlainActivity(connection, false); });
    m_connections->add(connection);
    return connection;
}

// --- PlainSink ----------------------------------------------------------------------------

void PlainSink::onHead(int status, const Http::HeaderList &headers)
{
    m_transfer.m_plain->phase = PlainState::Phase::Body;
    m_transfer.m_plainStatus = status;
    m_transfer.m_headDelivered = true;
    m_transfer.m_observer.onResponseHead(status, headers);
}

bool PlainSink::onBody(QByteArrayView data)
{
    m_transfer.m_bodyStarted = true;
    if (!m_transfer.m_observer.onResponseData(data)) {
        m_transfer.m_abortedByObserver = true;
        return false;
    }
    return true;
}

bool PlainSink::paused() const
{
    return m_transfer.m_paused;
}

// --- Transfer -----------------------------------------------------------------------------

Transfer::Transfer(CurlMulti &multi, UpstreamRequest &&request, TransferObserver &observer, PlainRoute &route)
    : m_multi {multi}
    , m_request {std::move(request)}
    , m_observer {observer}
    , m_headerList {nullptr, &curl_slist_free_all}
    , m_plain {std::make_unique<PlainState>(*this)}
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
    plain.framer.start(plain.sink);
    if (!plain.retried) {
        if (PlainConnection *connection = m_multi.m_connections->takeIdle(*plain.origin)) {
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
        PlainConnection *connection = m_multi.openConnection(*plain.origin, descriptor);
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
            m_multi.m_connections->release(plain.connection, false);
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
        // The framer takes the bytes as they come, so the buffer never needs to hold more
        // than one read (a paused transfer stops reading).
        const qsizetype space = connection.prepareSpace(READ_CHUNK);
        if (space <= 0) {
            return plainProcessInput(false);
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
                                 plain.framer.headBytes() == 0 &&
                                 (!plain.connection || plain.connection->buffered() == 0);
    if (plain.reusedConnection && !plain.retried && nothingReceived) {
        plain.retried = true;
        m_multi.m_connections->release(plain.connection, false);
        plain.connection = nullptr;
        return plainBegin();
    }
    return plainFinish(curlCode, false);
}

bool Transfer::plainProcessInput(bool eof)
{
    PlainState &plain = *m_plain;
    PlainConnection &connection = *plain.connection;
    ResponseFramer &framer = plain.framer;

    if (eof) {
        if (!framer.headComplete()) {
            return framer.headBytes() == 0 ? plainRetryOrFail(CURLE_GOT_NOTHING) : plainFinish(CURLE_RECV_ERROR, false);
        }
        if (m_paused) {
            return true; // resumeReceiving() reads on, and sees the end again
        }
        // A close-delimited body ends here; any other is cut short.
        framer.feedEof();
        return framer.complete() ? plainFinish(CURLE_OK, false) : plainFinish(CURLE_PARTIAL_FILE, false);
    }
    if (m_paused && framer.headComplete()) {
        return true; // resumeReceiving() hands the buffered bytes on
    }
    const qsizetype used = framer.feed(QByteArrayView {connection.data(), connection.buffered()});
    connection.consume(used);
    switch (framer.error()) {
    case ResponseFramer::Error::None:
        break;
    case ResponseFramer::Error::MalformedHead:
    case ResponseFramer::Error::Upgrade:
        return plainFinish(CURLE_WEIRD_SERVER_REPLY, false);
    case ResponseFramer::Error::Aborted:
        return plainFinish(CURLE_WRITE_ERROR, false);
    case ResponseFramer::Error::Truncated:
        return plainFinish(CURLE_PARTIAL_FILE, false);
    case ResponseFramer::Error::HeadTooLarge:
    case ResponseFramer::Error::MalformedBody:
        return plainFinish(CURLE_RECV_ERROR, false);
    }
    if (framer.complete()) {
        // Bytes beyond the response: the connection cannot be trusted.
        return plainFinish(CURLE_OK, framer.keepAlive() && connection.buffered() == 0);
    }
    if (framer.bodyFramed()) {
        // The idle timeout runs from the latest bytes.
        m_deadline = Clock::now() + std::chrono::milliseconds(m_request.idleTimeoutMs);
    }
    // Paused with bytes still buffered: resumeReceiving() hands them on.
    return true;
}

bool Transfer::plainFinish(int curlCode, bool reusable)
{
    PlainState &plain = *m_plain;
    if (plain.connection) {
        m_multi.m_connections->release(plain.connection, reusable && curlCode == CURLE_OK);
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
    const TransferResult result = resultOf(curlCode, m_headDelivered ? m_plainStatus : 0);
    m_observer.onComplete(result); // may delete this
    return false;
}

} // namespace Gateway::Upstream
