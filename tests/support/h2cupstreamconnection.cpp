#include "h2cupstreamconnection.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>

namespace TestSupport {

namespace H2cAnswers {

QByteArray completion()
{
    return QByteArrayLiteral(
        "{\"id\":\"chatcmpl-h2c\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"h2c\","
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello over h2c.\"},"
        "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":4,\"total_tokens\":9}}");
}

QList<QByteArray> streamEvents()
{
    QList<QByteArray> events;
    const char *const words[] = {"Hello", " over", " h2c."};
    for (const char *word : words) {
        events.append(QByteArrayLiteral("data: {\"id\":\"chatcmpl-h2c\",\"object\":\"chat.completion.chunk\","
                                        "\"created\":1700000000,\"model\":\"h2c\",\"choices\":[{\"index\":0,"
                                        "\"delta\":{\"content\":\"") +
                      word + QByteArrayLiteral("\"},\"finish_reason\":null}]}\n\n"));
    }
    events.append(QByteArrayLiteral("data: [DONE]\n\n"));
    return events;
}

QByteArray streamBody()
{
    QByteArray body;
    for (const QByteArray &event : streamEvents()) {
        body += event;
    }
    return body;
}

} // namespace H2cAnswers

namespace {

nghttp2_nv headerField(const QByteArray &name, const QByteArray &value)
{
    // nghttp2 copies names and values when the response is submitted.
    return {reinterpret_cast<quint8 *>(const_cast<char *>(name.constData())),
            reinterpret_cast<quint8 *>(const_cast<char *>(value.constData())), static_cast<size_t>(name.size()),
            static_cast<size_t>(value.size()), NGHTTP2_NV_FLAG_NONE};
}

} // namespace

struct H2cUpstreamConnection::Callbacks {
    static H2cUpstreamConnection &self(void *userData) { return *static_cast<H2cUpstreamConnection *>(userData); }

    static int beginHeaders(nghttp2_session *, const nghttp2_frame *frame, void *userData)
    {
        if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
            self(userData).beginStream(frame->hd.stream_id);
        }
        return 0;
    }

    static int header(nghttp2_session *, const nghttp2_frame *frame, const uint8_t *name, size_t nameLength,
                      const uint8_t *value, size_t valueLength, uint8_t, void *userData)
    {
        self(userData).header(frame->hd.stream_id,
                              QByteArrayView {reinterpret_cast<const char *>(name), static_cast<qsizetype>(nameLength)},
                              QByteArrayView {reinterpret_cast<const char *>(value), static_cast<qsizetype>(valueLength)});
        return 0;
    }

    static int dataChunk(nghttp2_session *, uint8_t, int32_t streamId, const uint8_t *data, size_t length, void *userData)
    {
        self(userData).requestData(streamId,
                                   QByteArrayView {reinterpret_cast<const char *>(data), static_cast<qsizetype>(length)});
        return 0;
    }

    static int frameReceived(nghttp2_session *, const nghttp2_frame *frame, void *userData)
    {
        const bool request = frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA;
        if (request && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
            self(userData).requestComplete(frame->hd.stream_id);
        }
        return 0;
    }

    static int streamClose(nghttp2_session *, int32_t streamId, uint32_t errorCode, void *userData)
    {
        self(userData).streamClosed(streamId, errorCode);
        return 0;
    }

    static ssize_t readBody(nghttp2_session *, int32_t streamId, uint8_t *buffer, size_t length, uint32_t *flags,
                            nghttp2_data_source *, void *userData)
    {
        return self(userData).fillBody(streamId, buffer, length, flags);
    }
};

H2cUpstreamConnection::H2cUpstreamConnection(QTcpSocket *socket, const H2cBehaviour &behaviour, H2cCounters &counters,
                                             QObject *parent)
    : QObject {parent}
    , m_socket {socket}
    , m_behaviour {behaviour}
    , m_counters {counters}
    , m_session {nullptr, &nghttp2_session_del}
{
    m_socket->setParent(this);
    ++m_counters.connectionsAccepted;
    ++m_counters.openConnections;

    nghttp2_session_callbacks *callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &Callbacks::beginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &Callbacks::header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Callbacks::dataChunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Callbacks::frameReceived);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Callbacks::streamClose);
    nghttp2_session *session = nullptr;
    nghttp2_session_server_new(&session, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
    m_session.reset(session);
    // No SETTINGS_MAX_CONCURRENT_STREAMS: unlimited, so the client's own cap is what a
    // test observes.
    nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);

    connect(m_socket, &QTcpSocket::readyRead, this, &H2cUpstreamConnection::onReadyRead);
    connect(m_socket, &QTcpSocket::disconnected, this, &QObject::deleteLater);
    flush();
    onReadyRead(); // bytes that arrived before this object existed
}

H2cUpstreamConnection::~H2cUpstreamConnection()
{
    for (const auto &[id, stream] : m_streams) {
        if (stream.held) {
            --m_counters.heldStreams;
        }
    }
    m_session.reset(); // before the streams its callbacks could look up
    --m_counters.openConnections;
}

void H2cUpstreamConnection::releaseHeldStreams()
{
    for (auto &[id, stream] : m_streams) {
        if (stream.held) {
            stream.held = false;
            stream.released = true;
            --m_counters.heldStreams;
            nghttp2_session_resume_data(m_session.get(), id);
        }
    }
    flush();
}

void H2cUpstreamConnection::onReadyRead()
{
    const QByteArray bytes = m_socket->readAll();
    if (bytes.isEmpty()) {
        return;
    }
    const auto consumed = nghttp2_session_mem_recv(m_session.get(), reinterpret_cast<const quint8 *>(bytes.constData()),
                                                   static_cast<size_t>(bytes.size()));
    if (consumed < 0) {
        qWarning("h2c upstream: %s", nghttp2_strerror(static_cast<int>(consumed)));
        m_socket->abort();
        return;
    }
    flush();
}

void H2cUpstreamConnection::flush()
{
    for (;;) {
        const quint8 *data = nullptr;
        const auto size = nghttp2_session_mem_send(m_session.get(), &data);
        if (size < 0) {
            qWarning("h2c upstream: %s", nghttp2_strerror(static_cast<int>(size)));
            m_socket->abort();
            return;
        }
        if (size == 0) {
            break;
        }
        m_socket->write(reinterpret_cast<const char *>(data), size);
    }
    if (!nghttp2_session_want_read(m_session.get()) && !nghttp2_session_want_write(m_session.get())) {
        m_socket->disconnectFromHost(); // GOAWAY exchanged
    }
}

H2cUpstreamConnection::Stream *H2cUpstreamConnection::find(int streamId)
{
    const auto it = m_streams.find(streamId);
    return it == m_streams.end() ? nullptr : &it->second;
}

void H2cUpstreamConnection::beginStream(int streamId)
{
    m_streams[streamId].id = streamId;
}

void H2cUpstreamConnection::header(int streamId, QByteArrayView name, QByteArrayView value)
{
    if (Stream *stream = find(streamId); stream && name == ":path") {
        stream->path = value.toByteArray();
    }
}

void H2cUpstreamConnection::requestData(int streamId, QByteArrayView data)
{
    if (Stream *stream = find(streamId)) {
        stream->body += data;
    }
}

void H2cUpstreamConnection::requestComplete(int streamId)
{
    if (Stream *stream = find(streamId)) {
        ++m_counters.requests;
        answer(*stream);
    }
}

void H2cUpstreamConnection::answer(Stream &stream)
{
    QByteArray status = QByteArrayLiteral("200");
    QByteArray contentType = QByteArrayLiteral("application/json");
    if (!stream.path.endsWith("/chat/completions")) {
        status = QByteArrayLiteral("404");
        stream.pieces = {QByteArrayLiteral("{\"error\":{\"message\":\"no such path\",\"type\":\"invalid_request_error\"}}")};
    } else if (QJsonDocument::fromJson(stream.body).object().value(QStringLiteral("stream")).toBool()) {
        contentType = QByteArrayLiteral("text/event-stream");
        stream.pieces = H2cAnswers::streamEvents();
    } else {
        stream.pieces = {H2cAnswers::completion()};
    }
    const QByteArray statusName = QByteArrayLiteral(":status");
    const QByteArray contentTypeName = QByteArrayLiteral("content-type");
    const nghttp2_nv headers[] = {headerField(statusName, status), headerField(contentTypeName, contentType)};
    nghttp2_data_provider provider {};
    provider.read_callback = &Callbacks::readBody;
    nghttp2_submit_response(m_session.get(), stream.id, headers, std::size(headers), &provider);
}

long H2cUpstreamConnection::fillBody(int streamId, quint8 *buffer, size_t length, quint32 *flags)
{
    Stream *stream = find(streamId);
    if (!stream) {
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    const bool streaming = stream->pieces.size() > 1;
    if (streaming && stream->offset == 0) {
        if (m_behaviour.holdAfterEvents > 0 && stream->piece == m_behaviour.holdAfterEvents && !stream->released) {
            stream->held = true;
            ++m_counters.heldStreams;
            return NGHTTP2_ERR_DEFERRED;
        }
        if (m_behaviour.resetAfterEvents > 0 && stream->piece == m_behaviour.resetAfterEvents) {
            resetLater(streamId);
            return NGHTTP2_ERR_DEFERRED;
        }
    }
    // One event per DATA frame (or several frames for a long one), as a server that
    // flushes every token would send them.
    const QByteArray &piece = stream->pieces.at(stream->piece);
    const auto size = std::min<qsizetype>(piece.size() - stream->offset, static_cast<qsizetype>(length));
    std::memcpy(buffer, piece.constData() + stream->offset, static_cast<size_t>(size));
    stream->offset += size;
    if (stream->offset == piece.size()) {
        stream->offset = 0;
        ++stream->piece;
    }
    if (stream->piece == stream->pieces.size()) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    return static_cast<long>(size);
}

void H2cUpstreamConnection::resetLater(int streamId)
{
    // Not from inside nghttp2's callback: the events before the reset leave first.
    QMetaObject::invokeMethod(
        this,
        [this, streamId] {
            if (Stream *stream = find(streamId)) {
                stream->resetByUs = true;
                ++m_counters.resetStreams;
                nghttp2_submit_rst_stream(m_session.get(), NGHTTP2_FLAG_NONE, streamId, NGHTTP2_INTERNAL_ERROR);
                flush();
            }
        },
        Qt::QueuedConnection);
}

void H2cUpstreamConnection::streamClosed(int streamId, quint32 errorCode)
{
    Stream *stream = find(streamId);
    if (!stream) {
        return;
    }
    if (stream->held) {
        --m_counters.heldStreams;
    }
    if (errorCode == NGHTTP2_NO_ERROR && !stream->pieces.isEmpty() && stream->piece == stream->pieces.size()) {
        ++m_counters.completedStreams;
    } else if (!stream->resetByUs) {
        ++m_counters.cancelledStreams;
    }
    m_streams.erase(streamId);
}

} // namespace TestSupport
