#include "gpu/metricsscraper.h"

#include "gpu/scrapeworker.h"

#include <QThread>

namespace Gateway::Gpu {

void MetricsScraper::ThreadJoiner::operator()(QThread *thread) const
{
    thread->quit();
    thread->wait();
    delete thread;
}

MetricsScraper::MetricsScraper(const ScrapeSettings &settings, QObject *parent)
    : QObject {parent}
    , m_settings {resolveScrapeSettings(settings)}
    , m_board {m_settings.staleAfterMs}
    , m_thread {new QThread}
    , m_worker {new ScrapeWorker {m_settings, m_board}}
{
    m_thread->setObjectName(QStringLiteral("engine-metrics"));
    m_worker->moveToThread(m_thread.get());
    // Deleted on its own thread after the loop ends, before the joiner's wait() returns,
    // so the worker never outlives the board it writes to.
    connect(m_thread.get(), &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &ScrapeWorker::scraped, this, &MetricsScraper::scraped);
    m_thread->start();
}

MetricsScraper::~MetricsScraper() = default;

void MetricsScraper::start()
{
    QMetaObject::invokeMethod(m_worker, &ScrapeWorker::start, Qt::QueuedConnection);
}

void MetricsScraper::stop()
{
    QMetaObject::invokeMethod(m_worker, &ScrapeWorker::stop, Qt::QueuedConnection);
}

void MetricsScraper::setTargets(std::vector<ScrapeTarget> targets)
{
    ScrapeWorker *worker = m_worker;
    QMetaObject::invokeMethod(
        m_worker, [worker, targets = std::move(targets)] { worker->setTargets(targets); }, Qt::QueuedConnection);
}

Routing::EngineSignals MetricsScraper::signalsFor(int backendId, qint64 nowMs) const
{
    return m_board.signalsFor(backendId, nowMs);
}

std::optional<ScrapeCounters> MetricsScraper::countersFor(int backendId) const
{
    return m_board.countersFor(backendId);
}

std::vector<TargetCounters> MetricsScraper::counters() const
{
    return m_board.counters();
}

} // namespace Gateway::Gpu
