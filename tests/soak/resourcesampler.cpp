#include "resourcesampler.h"

#include "processstats.h"

#include <QIODevice>

#include <algorithm>

namespace Soak {

ResourceSampler::ResourceSampler(qint64 pid, QList<quint16> upstreamPorts, QIODevice *csv, QObject *parent)
    : QObject {parent}
    , m_pid {pid}
    , m_upstreamPorts {std::move(upstreamPorts)}
    , m_csv {csv}
{
    m_timer.setInterval(1000);
    connect(&m_timer, &QTimer::timeout, this, &ResourceSampler::take);
}

void ResourceSampler::start()
{
    m_clock.start();
    if (m_csv) {
        m_csv->write("seconds,rss_kib,fds,upstream_sockets\n");
    }
    take();
    m_timer.start();
}

void ResourceSampler::stop()
{
    m_timer.stop();
}

ResourceSampler::Sample ResourceSampler::sampleNow() const
{
    Sample sample;
    sample.seconds = m_clock.isValid() ? static_cast<double>(m_clock.elapsed()) / 1000.0 : 0;
    sample.rssKiB = TestSupport::residentKiB(m_pid);
    sample.fds = TestSupport::openFileDescriptors(m_pid);
    sample.upstreamSockets = TestSupport::socketsConnectedTo(m_pid, m_upstreamPorts);
    return sample;
}

void ResourceSampler::take()
{
    const Sample sample = sampleNow();
    m_samples.push_back(sample);
    if (m_csv) {
        m_csv->write(QByteArray::number(sample.seconds, 'f', 1) + ',' + QByteArray::number(sample.rssKiB) + ',' +
                     QByteArray::number(sample.fds) + ',' + QByteArray::number(sample.upstreamSockets) + '\n');
    }
}

qint64 ResourceSampler::medianRssKiB(double fromSeconds, double toSeconds) const
{
    std::vector<qint64> values;
    for (const Sample &sample : m_samples) {
        if (sample.seconds >= fromSeconds && sample.seconds < toSeconds) {
            values.push_back(sample.rssKiB);
        }
    }
    if (values.empty()) {
        return -1;
    }
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2), values.end());
    return values[values.size() / 2];
}

} // namespace Soak
