#pragma once

#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QTimer>

#include <vector>

class QIODevice;

namespace Soak {

// Samples a process's resident memory and descriptors once a second (and the sockets it
// holds to the upstreams, which are its connection pool), optionally as CSV lines.
class ResourceSampler final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ResourceSampler)

public:
    struct Sample {
        double seconds = 0;
        qint64 rssKiB = 0;
        int fds = 0;
        int upstreamSockets = 0;
    };

    ResourceSampler(qint64 pid, QList<quint16> upstreamPorts, QIODevice *csv = nullptr, QObject *parent = nullptr);

    void start();
    void stop();
    Sample sampleNow() const;
    const std::vector<Sample> &samples() const { return m_samples; }
    // Median RSS of the samples taken in [fromSeconds, toSeconds); -1 if none.
    qint64 medianRssKiB(double fromSeconds, double toSeconds) const;

private:
    void take();

    qint64 m_pid;
    QList<quint16> m_upstreamPorts;
    QIODevice *m_csv;
    QTimer m_timer;
    QElapsedTimer m_clock;
    std::vector<Sample> m_samples;
};

} // namespace Soak
