#include "benchreport.h"

#include <QString>

#include <cmath>
#include <set>
#include <tuple>

namespace FleetBench {

namespace {

struct Column {
    const char *title;
    Metric metric;
    int decimals;
};

constexpr Column COLUMNS[] = {
    {"TTFT p50 (s)", Metric::TtftP50, 3},       {"TTFT p90 (s)", Metric::TtftP90, 3},
    {"TTFT p99 (s)", Metric::TtftP99, 3},       {"ITL p50 (ms)", Metric::ItlP50, 1},
    {"ITL p99 (ms)", Metric::ItlP99, 1},        {"E2E p50 (s)", Metric::E2eP50, 2},
    {"E2E p99 (s)", Metric::E2eP99, 2},         {"out tok/s", Metric::OutputTokensPerSecond, 0},
    {"req/s", Metric::RequestsPerSecond, 2},    {"goodput req/s", Metric::GoodputPerSecond, 2},
    {"hit rate", Metric::HitRate, 3},           {"prefill Mtok", Metric::PrefillTokens, 2},
    {"prefill skew", Metric::PrefillSkew, 2},   {"running skew", Metric::RunningSkew, 2},
    {"peak waiting", Metric::PeakWaiting, 0},   {"timeouts", Metric::Timeouts, 1},
    {"disaggregated", Metric::DisaggregatedShare, 2},
    {"decision p50 (µs)", Metric::DecisionP50Us, 1}, {"decision p99 (µs)", Metric::DecisionP99Us, 1},
};

QByteArray cell(const Summary &summary, const Column &column)
{
    double scale = column.metric == Metric::PrefillTokens ? 1e-6 : 1.0;
    const double mean = valueOf(summary.mean, column.metric) * scale;
    const double ci = valueOf(summary.ci95, column.metric) * scale;
    QByteArray text = QByteArray::number(mean, 'f', column.decimals);
    if (summary.runs > 1) {
        text += " ± " + QByteArray::number(ci, 'f', column.decimals);
    }
    return text;
}

} // namespace

QByteArray markdownSummary(const Summaries &summaries)
{
    QByteArray out;
    out += "# Fleet routing benchmark (simulated)\n\n"
           "Every cell: mean ± 95% confidence half-width over the seeds (Student's t). Load: offered rate as a "
           "fraction of the fleet's round-robin saturation rate (`rate`, requests/s). Policies ending in `_oracle` "
           "read the simulated servers' true KV caches (the analogue of KV-cache events): not achievable from "
           "routing decisions alone. Latency percentiles count timed-out requests at the timeout.\n";
    using Table = std::tuple<QString, QString, double, int>;
    std::set<Table> tables;
    for (const auto &[key, summary] : summaries) {
        tables.insert({key.workload, key.arrivals, key.scrapeMs, key.servers});
    }
    for (const auto &[workload, arrivals, scrapeMs, servers] : tables) {
        out += "\n## " + workload.toUtf8() + ", " + arrivals.toUtf8() + ", scrape "
            + (scrapeMs > 0 ? QByteArray::number(scrapeMs) + " ms" : QByteArray("oracle-fresh")) + ", "
            + QByteArray::number(servers) + " servers\n\n";
        out += "| load | rate | policy | runs |";
        for (const Column &column : COLUMNS) {
            out += ' ';
            out += column.title;
            out += " |";
        }
        out += "\n|---|---|---|---|";
        for (std::size_t i = 0; i < std::size(COLUMNS); ++i) {
            out += "---|";
        }
        out += '\n';
        for (const auto &[key, summary] : summaries) {
            if (key.workload != workload || key.arrivals != arrivals || key.scrapeMs != scrapeMs || key.servers != servers) {
                continue;
            }
            out += "| " + (arrivals.startsWith(QLatin1StringView("burst")) ? QByteArray("burst") : QByteArray::number(key.load, 'f', 2)) + " | "
                + QByteArray::number(summary.rate, 'f', 2) + " | " + key.policy.toUtf8() + " | "
                + QByteArray::number(summary.runs) + " |";
            for (const Column &column : COLUMNS) {
                out += ' ' + cell(summary, column) + " |";
            }
            out += '\n';
        }
    }
    return out;
}

} // namespace FleetBench
