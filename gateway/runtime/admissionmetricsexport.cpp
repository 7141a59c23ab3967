#include "admissionmetricsexport.h"

#include "metrics/exposition.h"

#include "admission/admissionqueue.h"
#include "routetable.h"

#include <algorithm>
#include <vector>

namespace Gateway::Runtime {

namespace {

using Admission::ClassMetrics;
using Admission::QueueMetrics;
using Admission::RefusalReason;

// The reasons a request is shed with (MaxWait is counted as a time-out instead).
constexpr RefusalReason SHED_REASONS[] = {RefusalReason::PredictedMiss, RefusalReason::QueueFull,
                                          RefusalReason::Evicted, RefusalReason::Shutdown};

struct QueueSample {
    QByteArray group; // escaped for a label value
    QueueMetrics metrics;
};

QByteArray number(double value)
{
    return QByteArray::number(value, 'g', 10);
}

QByteArray classLabels(const QueueSample &queue, Admission::PriorityClass priority)
{
    const QLatin1String name = Admission::priorityClassName(priority);
    return "group=\"" + queue.group + "\",priority=\"" + QByteArray(name.data(), name.size()) + '"';
}

// Each distinct queue once (routes over the same target group share one), in route order.
std::vector<QueueSample> sampleQueues(const RouteTable &table)
{
    std::vector<QueueSample> samples;
    std::vector<const Admission::AdmissionQueue *> seen;
    for (const auto &route : table.routes()) {
        if (!route->admission || std::find(seen.begin(), seen.end(), route->admission) != seen.end()) {
            continue;
        }
        seen.push_back(route->admission);
        samples.push_back({Metrics::escapeLabelValue(route->admissionGroup), route->admission->metrics()});
    }
    return samples;
}

void appendPerClass(QByteArray &out, const std::vector<QueueSample> &queues, const char *name, const char *type,
                    const char *help, std::uint64_t (*read)(const ClassMetrics &))
{
    Metrics::appendMetricHeader(out, name, type, help);
    for (const QueueSample &queue : queues) {
        for (const Admission::PriorityClass priority : Admission::PRIORITY_CLASSES) {
            out += name + ('{' + classLabels(queue, priority) + "} ") + QByteArray::number(read(queue.metrics[priority])) + '\n';
        }
    }
}

void appendWaitHistogram(QByteArray &out, const std::vector<QueueSample> &queues)
{
    // Seconds, like every latency histogram of the gateway; the queue counts per bucket
    // (not cumulatively), Prometheus wants "at most le", so the counts are summed here.
    constexpr const char *NAME = "switchyard_queue_wait_seconds";
    Metrics::appendMetricHeader(out, NAME, "histogram", "Time requests waited in the gateway queue for a slot (0 for those admitted at once).");
    const auto &bounds = Admission::WaitHistogram::BOUNDS_MS;
    for (const QueueSample &queue : queues) {
        for (const Admission::PriorityClass priority : Admission::PRIORITY_CLASSES) {
            const Admission::WaitHistogram &wait = queue.metrics[priority].wait;
            const QByteArray labels = classLabels(queue, priority);
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i < bounds.size(); ++i) {
                cumulative += wait.buckets[i];
                out += QByteArray(NAME) + "_bucket{" + labels + ",le=\"" + number(static_cast<double>(bounds[i]) / 1000.0) +
                       "\"} " + QByteArray::number(cumulative) + '\n';
            }
            out += QByteArray(NAME) + "_bucket{" + labels + ",le=\"+Inf\"} " + QByteArray::number(wait.count) + '\n';
            out += QByteArray(NAME) + "_sum{" + labels + "} " + number(wait.sumMs / 1000.0) + '\n';
            out += QByteArray(NAME) + "_count{" + labels + "} " + QByteArray::number(wait.count) + '\n';
        }
    }
}

void appendPerQueue(QByteArray &out, const std::vector<QueueSample> &queues, const char *name, const char *help,
                    double (*read)(const QueueMetrics &))
{
    Metrics::appendMetricHeader(out, name, "gauge", help);
    for (const QueueSample &queue : queues) {
        out += name + ("{group=\"" + queue.group + "\"} ") + number(read(queue.metrics)) + '\n';
    }
}

} // namespace

void appendAdmissionMetrics(QByteArray &out, const RouteTable &table)
{
    const std::vector<QueueSample> queues = sampleQueues(table);
    if (queues.empty()) {
        return;
    }
    appendPerClass(out, queues, "switchyard_queue_depth", "gauge", "Requests waiting in the gateway queue now.",
                   [](const ClassMetrics &m) { return static_cast<std::uint64_t>(m.depth); });
    appendWaitHistogram(out, queues);
    appendPerClass(out, queues, "switchyard_queue_admitted_total", "counter",
                   "Requests given a slot, at once or after waiting.",
                   [](const ClassMetrics &m) { return m.grantedAtOnce + m.grantedFromQueue; });
    appendPerClass(out, queues, "switchyard_queue_queued_total", "counter",
                   "Requests that found every slot taken and waited.", [](const ClassMetrics &m) { return m.queued; });
    Metrics::appendMetricHeader(out, "switchyard_queue_shed_total", "counter",
           "Requests refused with 429 + Retry-After, on arrival or while waiting, by reason.");
    for (const QueueSample &queue : queues) {
        for (const Admission::PriorityClass priority : Admission::PRIORITY_CLASSES) {
            for (const RefusalReason reason : SHED_REASONS) {
                const QLatin1String name = Admission::refusalReasonName(reason);
                out += "switchyard_queue_shed_total{" + classLabels(queue, priority) + ",reason=\"" +
                       QByteArray(name.data(), name.size()) + "\"} " +
                       QByteArray::number(queue.metrics[priority].shed(reason)) + '\n';
            }
        }
    }
    appendPerClass(out, queues, "switchyard_queue_timed_out_total", "counter",
                   "Requests answered 429 + Retry-After after waiting their class's max_queue_wait_ms.",
                   [](const ClassMetrics &m) { return m.timedOut; });
    appendPerClass(out, queues, "switchyard_queue_cancelled_total", "counter",
                   "Requests that left the queue because their client went away.",
                   [](const ClassMetrics &m) { return m.cancelled; });
    appendPerQueue(out, queues, "switchyard_queue_slots", "Slots of the group: the sum of its targets' max_concurrency.",
                   [](const QueueMetrics &m) { return static_cast<double>(m.slotCount); });
    appendPerQueue(out, queues, "switchyard_queue_slots_in_use", "Slots held by requests being answered now.",
                   [](const QueueMetrics &m) { return static_cast<double>(m.inUse); });
    appendPerQueue(out, queues, "switchyard_queue_drain_tokens_per_second",
                   "Expected tokens per second the group works through, as learned (0 = nothing learned yet).",
                   [](const QueueMetrics &m) { return m.drainTokensPerSecond; });
    appendPerQueue(out, queues, "switchyard_queue_service_ttft_ms",
                   "Learned time from a slot being granted to the first token (0 = nothing learned yet).",
                   [](const QueueMetrics &m) { return m.serviceTtftMs; });
}

} // namespace Gateway::Runtime
