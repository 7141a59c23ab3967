#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>

#include <map>
#include <memory>

class QTcpSocket;
struct nghttp2_session;

namespace TestSupport {

// What the h2c upstream does with the streams it answers (0 = never).
struct H2cBehaviour {
    int holdAfterEvents = 0;  // a streaming answer pauses after this many events until released
    int resetAfterEvents = 0; // a streaming answer is reset (RST_STREAM) after this many events
};

// What it saw, over all of its connections.
struct H2cCounters {
    int connectionsAccepted = 0;
    int openConnections = 0;
    int requests = 0;        // request streams whose request was complete
    int heldStreams = 0;     // streams paused now, waiting for a release
    int completedStreams = 0; // answers sent to the end, stream closed without error
    int resetStreams = 0;     // RST_STREAM sent by the upstream (resetAfterEvents)
    int cancelledStreams = 0; // RST_STREAM received from the client before the answer ended
};

// The answers: an OpenAI chat completion, or its stream of SSE events ending in [DONE].
namespace H2cAnswers {
QByteArray completion();
QList<QByteArray> streamEvents(); // each a complete "data: ...\n\n" event, [DONE] last
QByteArray streamBody();          // the events joined
} // namespace H2cAnswers

// One HTTP/2 server session (nghttp2, fed from memory) on one accepted TCP connection.
// Bytes read from the socket go into nghttp2_session_mem_recv; whatever the session has
// to send is written right after, so every frame leaves as soon as it exists.
class H2cUpstreamConnection final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(H2cUpstreamConnection)

public:
    // Takes `socket` over (it becomes a child); deletes itself once the socket closes.
    H2cUpstreamConnection(QTcpSocket *socket, const H2cBehaviour &behaviour, H2cCounters &counters,
                          QObject *parent = nullptr);
    ~H2cUpstreamConnection() override;

    // Resumes every held stream.
    void releaseHeldStreams();

private:
    struct Stream {
        int id = 0;
        QByteArray path;
        QByteArray body;
        QList<QByteArray> pieces; // the answer's body, one DATA frame (at least) each
        qsizetype piece = 0;      // next piece to send
        qsizetype offset = 0;     // within it
        bool held = false;
        bool released = false;
        bool resetByUs = false;
    };

    // nghttp2's callbacks (h2cupstreamconnection.cpp), which call the members below.
    struct Callbacks;
    friend struct Callbacks;

    void beginStream(int streamId);
    void header(int streamId, QByteArrayView name, QByteArrayView value);
    void requestData(int streamId, QByteArrayView data);
    void requestComplete(int streamId);
    void streamClosed(int streamId, quint32 errorCode);
    // Fills one DATA frame of the answer; returns its size or an nghttp2 error code.
    long fillBody(int streamId, quint8 *buffer, size_t length, quint32 *flags);

    void onReadyRead();
    void answer(Stream &stream);
    void resetLater(int streamId);
    void flush();
    Stream *find(int streamId);

    QTcpSocket *m_socket;
    const H2cBehaviour &m_behaviour;
    H2cCounters &m_counters;
    std::unique_ptr<nghttp2_session, void (*)(nghttp2_session *)> m_session;
    std::map<int, Stream> m_streams;
};

} // namespace TestSupport
