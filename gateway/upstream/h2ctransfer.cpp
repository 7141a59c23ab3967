// How h2c transfers reach curl: one connection attempt per origin at a time (h2corigin.h).

#include "curlmulti.h"
#include "h2corigin.h"

#include <curl/curl.h>

#include <algorithm>
#include <utility>

namespace Gateway::Upstream {

namespace {

// "http://host:port" of "http://host:port/v1/chat/completions": curl's connections are
// per origin.
QByteArray originOf(const QByteArray &url)
{
    const qsizetype authority = url.indexOf("://");
    const qsizetype path = url.indexOf('/', authority < 0 ? 0 : authority + 3);
    return path < 0 ? url : url.left(path);
}

} // namespace

void CurlMulti::queueH2c(Transfer *transfer)
{
    H2cOrigin &origin = m_h2cOrigins[originOf(transfer->m_request.url)];
    transfer->m_h2cOrigin = &origin;
    transfer->m_h2cSequence = ++m_h2cSequence;
    transfer->m_h2cQueued = true;
    origin.waiting.push_back(transfer);
    m_h2cPumpWanted = true; // kick() admits it at once
    scheduleH2cPump();      // or the event loop does, if nobody kicks
}

void CurlMulti::scheduleH2cPump()
{
    if (m_h2cPumpScheduled) {
        return;
    }
    m_h2cPumpScheduled = true;
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_h2cPumpScheduled = false;
            pumpH2c();
        },
        Qt::QueuedConnection);
}

void CurlMulti::pumpH2c()
{
    if (m_actionDepth > 0) {
        scheduleH2cPump(); // never add handles from inside a curl callback
        return;
    }
    m_h2cPumpWanted = false;
    for (auto &[key, origin] : m_h2cOrigins) {
        pumpH2cOrigin(origin);
    }
}

void CurlMulti::pumpH2cOrigin(H2cOrigin &origin)
{
    for (;;) {
        // Failing a transfer runs observer code that may start (queue) or end others.
        while (!origin.waiting.empty() && origin.waiting.front()->m_h2cSequence <= origin.failUpTo) {
            Transfer *transfer = origin.waiting.front();
            origin.waiting.pop_front();
            transfer->m_h2cQueued = false;
            const TransferResult failure = origin.failure;
            transfer->fail(failure.error, failure.errorText.constData()); // may delete it
        }
        if (origin.opener || origin.waiting.empty()) {
            return;
        }
        const int perConnection = origin.settingsSeen ? HTTP2_MAX_CONCURRENT_STREAMS : H2cOrigin::STREAMS_BEFORE_SETTINGS;
        const bool full = origin.connections > 0 && origin.streams >= origin.connections * perConnection;
        if (full && !origin.settingsSeen) {
            return; // the first response head (Transfer::headerCallback) pumps again
        }
        Transfer *transfer = origin.waiting.front();
        origin.waiting.pop_front();
        transfer->m_h2cQueued = false;
        transfer->m_h2cReuse = origin.connections > 0 && !full;
        curl_easy_setopt(transfer->m_easy, CURLOPT_HTTP_VERSION,
                         static_cast<long>(transfer->m_h2cReuse ? CURL_HTTP_VERSION_2_0 : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE));
        curl_multi_add_handle(m_multi, transfer->m_easy);
        transfer->m_inCurl = true;
        // Let curl take it now: it either reuses a multiplexed connection (and runs the
        // pre-request callback before returning) or starts a connection attempt.
        int running = 0;
        ++m_actionDepth;
        curl_multi_socket_action(m_multi, CURL_SOCKET_TIMEOUT, 0, &running);
        --m_actionDepth;
        if (!transfer->m_connected) {
            origin.opener = transfer; // still alive: transfers end only in drainFinished()
        } else if (!transfer->m_h2cReuse) {
            // It connected within that call (a loopback connect can), before it could be
            // the opener the pre-request callback counts: count its connection here, or
            // the next transfer would ask for prior knowledge on a connection curl reuses
            // (CURLE_HTTP2, see h2corigin.h).
            ++origin.connections;
        }
        drainFinished();
    }
}

void CurlMulti::forgetH2c(Transfer *transfer, const TransferResult *result)
{
    H2cOrigin *origin = std::exchange(transfer->m_h2cOrigin, nullptr);
    if (!origin) {
        return;
    }
    if (transfer->m_h2cQueued) {
        transfer->m_h2cQueued = false;
        origin->waiting.erase(std::find(origin->waiting.begin(), origin->waiting.end(), transfer));
    }
    if (transfer->m_h2cStream) {
        --origin->streams;
    }
    // A reusing transfer that broke before any answer: the connection it was meant for is
    // likely gone. Believe in no connection, so the next transfer opens one.
    if (result && transfer->m_h2cReuse && result->status == 0 && result->error != TransferError::None &&
        result->error != TransferError::Aborted) {
        origin->connections = 0;
        origin->settingsSeen = false;
    }
    if (origin->opener != transfer) {
        return;
    }
    origin->opener = nullptr;
    const bool unreachable = result && !transfer->m_connected &&
                             (result->error == TransferError::ConnectFailed || result->error == TransferError::ConnectTimeout);
    if (unreachable) {
        origin->failUpTo = m_h2cSequence;
        origin->failure = *result;
    }
    scheduleH2cPump();
}

int Transfer::prereqCallback(void *userp, char *, char *, int, int)
{
    auto *self = static_cast<Transfer *>(userp);
    self->m_connected = true;
    H2cOrigin *origin = self->m_h2cOrigin;
    if (origin && !self->m_h2cStream) {
        self->m_h2cStream = true;
        ++origin->streams;
    }
    if (origin && origin->opener == self) {
        // Connected: the next waiting transfers can multiplex onto this connection.
        origin->opener = nullptr;
        ++origin->connections;
        self->m_multi.scheduleH2cPump();
    }
    return CURL_PREREQFUNC_OK;
}

} // namespace Gateway::Upstream
