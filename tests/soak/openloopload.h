#pragma once

#include "testhttpclient.h"

#include <QElapsedTimer>
#include <QHash>
#include <QMap>
#include <QObject>
#include <QTimer>

#include <deque>
#include <memory>

namespace Soak {

// Open-loop load on the gateway: requests go out on a fixed schedule (`rate` per second)
// whatever the answers do, over keep-alive connections taken first-in first-out (so none
// sits idle long enough to be closed), opening another when all are busy. Every answer
// is classified: a complete answer, an injected upstream fault, or anything else.
class OpenLoopLoad final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(OpenLoopLoad)

public:
    struct Settings {
        quint16 port = 0;
        double rate = 100;        // requests per second
        double streamShare = 1.0 / 3; // of the requests, this share streams
        QList<QByteArray> models; // taken in turn
        // Bounds the gateway's concurrency: on a machine that cannot keep the rate, sends
        // wait (and the schedule check fails) instead of memory growing with the backlog.
        int maxConnections = 512;
        int answerTimeoutMs = 30000;
    };
    struct Tally {
        qint64 sent = 0;
        qint64 complete = 0;        // 200 with a complete answer ([DONE] for streams)
        qint64 completeStreams = 0;
        qint64 injected = 0;        // 502 upstream_error naming the upstream's injected 500
        qint64 other = 0;           // anything else: the soak fails on any
        qint64 late = 0;            // ticks that found every connection busy (the sends waited)
        QMap<QByteArray, qint64> otherKinds; // what the other errors were
        int peakConnections = 0;
    };

    explicit OpenLoopLoad(Settings settings, QObject *parent = nullptr);
    ~OpenLoopLoad() override;

    void start();
    // Stops sending; answers still outstanding keep being collected.
    void stopSending();
    int outstanding() const { return static_cast<int>(m_busy.size()); }
    void closeConnections();
    const Tally &tally() const { return m_tally; }

private:
    struct Busy {
        qint64 sentAtMs = 0;
        bool stream = false;
    };

    void tick();
    void send();
    TestSupport::TestHttpClient *takeConnection();
    void onComplete(TestSupport::TestHttpClient *client);
    void classify(const TestSupport::TestHttpClient::Response &response, bool stream);
    void countOther(const QByteArray &kind);
    void sweep();

    Settings m_settings;
    QTimer m_ticker;
    QTimer m_sweeper;
    QElapsedTimer m_clock;
    std::vector<std::unique_ptr<TestSupport::TestHttpClient>> m_connections;
    std::deque<TestSupport::TestHttpClient *> m_idle;
    QHash<TestSupport::TestHttpClient *, Busy> m_busy;
    Tally m_tally;
    bool m_sending = false;
};

} // namespace Soak
