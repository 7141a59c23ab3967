#include "spanexporter.h"

#include "otlpjson.h"
#include "otlppost.h"

#include <QString> // QStringBuilder: QByteArray concatenation with QT_USE_QSTRINGBUILDER
#include <QUrl>
#include <QtGlobal>

#include <algorithm>
#include <chrono>

namespace Gateway::Tracing {

namespace {

using Clock = std::chrono::steady_clock;

// Spans per POST: large enough to amortise the request, small enough that one body
// stays well under collectors' default 4 MiB limits (a span encodes to about 1 KiB).
constexpr std::size_t MAX_BATCH_SPANS = 512;
// One export may take this long before it counts as failed.
constexpr int EXPORT_TIMEOUT_MS = 10000;
// A failed export is tried this many times in all, waiting 250 ms, 500 ms, 1 s, ...
// between tries, up to 5 s: a collector restart is ridden out, a dead one costs
// memory for seconds, not forever.
constexpr int MAX_EXPORT_TRIES = 5;
constexpr int FIRST_BACKOFF_MS = 250;
constexpr int MAX_BACKOFF_MS = 5000;
// At shutdown what is queued gets this long in all, one try per batch.
constexpr int SHUTDOWN_FLUSH_MS = 3000;

// The endpoint as a log line may show it: without credentials in its user info.
QByteArray loggable(const QByteArray &endpoint)
{
    return QUrl(QString::fromUtf8(endpoint)).toDisplayString(QUrl::RemoveUserInfo).toUtf8();
}

} // namespace

SpanExporter::SpanExporter() = default;

SpanExporter::~SpanExporter()
{
    {
        const std::lock_guard lock {m_mutex};
        m_stopping = true;
        const auto deadline = Clock::now() + std::chrono::milliseconds(SHUTDOWN_FLUSH_MS);
        m_flushDeadlineNs.store(std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count());
    }
    m_wake.notify_all();
    if (m_thread.joinable()) {
        m_thread.join();
    }
}

void SpanExporter::configure(Settings settings)
{
    {
        const std::lock_guard lock {m_mutex};
        m_settings = std::move(settings);
        if (m_thread.joinable()) {
            return;
        }
        m_thread = std::thread {[this] { run(); }};
    }
    m_wake.notify_all();
}

bool SpanExporter::submit(Span &&span)
{
    bool wakeExporter = false;
    {
        const std::lock_guard lock {m_mutex};
        if (!m_settings || m_stopping || m_queue.size() >= static_cast<std::size_t>(m_settings->maxQueueSpans)) {
            m_droppedQueueFull.fetch_add(1, std::memory_order_relaxed);
            return false;
        }
        m_queue.push_back(std::move(span));
        // The first span starts the export interval; a full batch is sent at once.
        wakeExporter = m_queue.size() == 1 || m_queue.size() == MAX_BATCH_SPANS;
    }
    if (wakeExporter) {
        m_wake.notify_one();
    }
    return true;
}

void SpanExporter::run()
{
    OtlpPost post;
    std::vector<Span> taken;
    std::vector<Span> batch;
    std::unique_lock lock {m_mutex};
    for (;;) {
        // Idle without a timer while nothing is queued: the first span wakes the thread.
        m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
        if (m_queue.empty()) {
            return; // stopping, and everything was sent (or given up)
        }
        if (!m_stopping && m_queue.size() < MAX_BATCH_SPANS) {
            // A span waits about one interval at most; a full batch goes at once.
            const auto due = Clock::now() + std::chrono::milliseconds(m_settings->exportIntervalMs);
            m_wake.wait_until(lock, due, [this] { return m_stopping || m_queue.size() >= MAX_BATCH_SPANS; });
        }
        // Everything queued is taken in one swap, so workers never wait behind a copy;
        // while it is sent, up to max_queue_spans new spans may queue again.
        taken.swap(m_queue);
        const Settings settings = *m_settings;
        lock.unlock();
        for (std::size_t first = 0; first < taken.size(); first += MAX_BATCH_SPANS) {
            const std::size_t last = std::min(taken.size(), first + MAX_BATCH_SPANS);
            batch.assign(std::make_move_iterator(taken.begin() + static_cast<std::ptrdiff_t>(first)),
                         std::make_move_iterator(taken.begin() + static_cast<std::ptrdiff_t>(last)));
            if (pastFlushDeadline()) {
                // Shutdown ran out of time: what is left is dropped, and counted.
                m_droppedExportFailed.fetch_add(batch.size(), std::memory_order_relaxed);
            } else if (exportBatch(batch, settings, post)) {
                m_exported.fetch_add(batch.size(), std::memory_order_relaxed);
            } else {
                m_droppedExportFailed.fetch_add(batch.size(), std::memory_order_relaxed);
            }
        }
        taken.clear();
        batch.clear();
        lock.lock();
    }
}

bool SpanExporter::exportBatch(const std::vector<Span> &batch, const Settings &settings, OtlpPost &post)
{
    const QByteArray body = encodeOtlpJson(batch, {settings.serviceName, QByteArrayLiteral(SWITCHYARD_VERSION)});
    int backoffMs = FIRST_BACKOFF_MS;
    for (int attempt = 1;; ++attempt) {
        bool stopping = false;
        {
            const std::lock_guard lock {m_mutex};
            stopping = m_stopping;
        }
        const int timeoutMs = stopping ? std::min(EXPORT_TIMEOUT_MS, SHUTDOWN_FLUSH_MS) : EXPORT_TIMEOUT_MS;
        const OtlpPost::Result result =
            post.post(settings.endpoint, settings.headers, body, timeoutMs, [this] { return pastFlushDeadline(); });
        if (result.succeeded()) {
            if (m_failing) {
                m_failing = false;
                qInfo("tracing: exporting spans to %s works again", loggable(settings.endpoint).constData());
            }
            return true;
        }
        m_exportFailures.fetch_add(1, std::memory_order_relaxed);
        if (!m_failing) {
            // Once per outage, not once per try: the counter tells how often.
            m_failing = true;
            const QByteArray why = result.status == 0 ? result.errorText : "HTTP " + QByteArray::number(result.status);
            qWarning("tracing: exporting spans to %s failed (%s); retrying with backoff, spans are dropped after %d tries",
                     loggable(settings.endpoint).constData(), why.constData(), MAX_EXPORT_TRIES);
        }
        if (!result.retryable() || attempt >= MAX_EXPORT_TRIES || stopping) {
            return false;
        }
        // Wait before the next try; shutdown cuts the wait short (and ends the retries).
        std::unique_lock lock {m_mutex};
        m_wake.wait_for(lock, std::chrono::milliseconds(backoffMs), [this] { return m_stopping; });
        backoffMs = std::min(backoffMs * 2, MAX_BACKOFF_MS);
    }
}

bool SpanExporter::pastFlushDeadline() const
{
    const qint64 deadline = m_flushDeadlineNs.load();
    return deadline != 0 &&
           std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count() >= deadline;
}

void SpanExporter::appendPrometheus(QByteArray &out) const
{
    out += "# HELP switchyard_trace_spans_exported_total Spans accepted by the OTLP collector.\n"
           "# TYPE switchyard_trace_spans_exported_total counter\n";
    out += "switchyard_trace_spans_exported_total " + QByteArray::number(exportedSpans()) + '\n';
    out += "# HELP switchyard_trace_spans_dropped_total Spans not exported: the queue was full, or the collector "
           "refused or stayed unreachable through every retry.\n"
           "# TYPE switchyard_trace_spans_dropped_total counter\n";
    out += "switchyard_trace_spans_dropped_total{reason=\"queue_full\"} " + QByteArray::number(droppedQueueFull()) + '\n';
    out += "switchyard_trace_spans_dropped_total{reason=\"export_failed\"} " + QByteArray::number(droppedExportFailed()) + '\n';
    out += "# HELP switchyard_trace_export_failures_total Export requests to the collector that failed (each retry counts).\n"
           "# TYPE switchyard_trace_export_failures_total counter\n";
    out += "switchyard_trace_export_failures_total " + QByteArray::number(exportFailures()) + '\n';
}

} // namespace Gateway::Tracing
