#pragma once

#include "h2cupstreamconnection.h"

#include <QByteArray>
#include <QObject>

class QTcpServer;

namespace TestSupport {

// An OpenAI-shaped upstream that speaks HTTP/2 without TLS (h2c, prior knowledge only,
// no HTTP/1.1 upgrade), as TGI, Triton or an Envoy sidecar can: POST .../chat/completions
// answers H2cAnswers::completion(), or H2cAnswers::streamEvents() one DATA frame per
// event when the body asks for "stream": true. Streams can be held after their first
// events until released, or reset mid-way, and it counts the TCP connections it accepts,
// so tests see whether streams really shared connections.
//
// Lives on the thread that created it (the test's): tests wait by processing events, so
// it answers while they wait.
class H2cUpstream final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(H2cUpstream)

public:
    explicit H2cUpstream(QObject *parent = nullptr);
    ~H2cUpstream() override;

    // Binds 127.0.0.1 on a free port.
    bool listen();
    quint16 port() const;
    // "http://127.0.0.1:PORT/v1"
    QByteArray baseUrl() const;

    // Read as each stream sends its next event: a change applies to streams in flight too.
    void setBehaviour(const H2cBehaviour &behaviour) { m_behaviour = behaviour; }
    // Resumes every stream held now; later streams are held again (if still asked to).
    void releaseHeldStreams();

    const H2cCounters &counters() const { return m_counters; }

private:
    void onNewConnection();

    QTcpServer *m_server;
    H2cBehaviour m_behaviour;
    H2cCounters m_counters;
};

} // namespace TestSupport
