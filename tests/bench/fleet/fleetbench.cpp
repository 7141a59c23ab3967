// switchyard-fleet-bench: the routing benchmark of gpu-routers.md section 8, over the
// fleet simulator (gateway/sim/fleet). See run-fleet-bench.sh for the full sweep.

#include "benchoptions.h"
#include "benchreport.h"
#include "benchrow.h"
#include "benchstats.h"
#include "reproductionchecks.h"
#include "saturationfile.h"

#include "sim/fleet/fleetdriver.h"
#include "sim/fleet/requestlog.h"
#include "sim/fleet/saturation.h"
#include "sim/fleet/workloads.h"

#include <QCoreApplication>
#include <QFile>

#include <chrono>
#include <cstdio>

using namespace Gateway::Sim::Fleet;
using namespace FleetBench;

namespace {

// Saturation is measured on seeds of its own, never on the ones being compared.
constexpr std::uint64_t CALIBRATION_SEED = 1000;

void fail(const QString &message)
{
    std::fprintf(stderr, "switchyard-fleet-bench: %s\n", qPrintable(message));
}

FleetConfig fleetConfig(const BenchOptions &options, double scrapeMs, std::uint64_t seed)
{
    FleetConfig config;
    config.servers = options.servers;
    config.scrapeInterval = static_cast<SimTime>(scrapeMs * MICROS_PER_MILLI);
    config.requestTimeout = fromSeconds(options.timeoutSeconds);
    config.routerSeed = seed;
    config.stepScale = options.stepScale;
    if (options.kvBlocks > 0) {
        config.server.numGpuBlocks = options.kvBlocks;
    }
    return config;
}

// The fleet variants of one run: aggregated, or one per P/D threshold, each with the
// label its rows carry after the policy name ("" or "/1P3D-t16", "/1P3D-never"), then
// "/2rep" with 2 gateway replicas. Calibration (fleetConfig alone) always uses one router.
std::vector<std::pair<QString, FleetConfig>> fleetVariants(const BenchOptions &options, double scrapeMs, std::uint64_t seed)
{
    FleetConfig base = fleetConfig(options, scrapeMs, seed);
    base.replicas = options.replicas;
    base.restartAt = options.restartAtSeconds >= 0.0 ? fromSeconds(options.restartAtSeconds) : -1;
    base.forgetOnRestart = !options.keepIndexOnRestart;
    const QString replicas = options.replicas > 1 ? QStringLiteral("/%1rep").arg(options.replicas) : QString();
    if (options.prefillServers <= 0) {
        return {{replicas, base}};
    }
    std::vector<std::pair<QString, FleetConfig>> variants;
    const QString pools = QStringLiteral("/%1P%2D-").arg(options.prefillServers).arg(options.servers - options.prefillServers);
    for (const int threshold : options.pdThresholds) {
        FleetConfig config = base;
        config.prefillServers = options.prefillServers;
        config.pd.enabled = threshold >= 0;
        config.pd.uncachedTokensThreshold = std::max(0, threshold);
        config.pd.maxPrefillWorkRatio = options.pdWorkRatio;
        variants.emplace_back(pools + (threshold >= 0 ? QStringLiteral("t%1").arg(threshold) : QStringLiteral("never")) + replicas, config);
    }
    return variants;
}

// "-kv2000" with --kv-blocks 2000, else empty: what tells a run on another KV cache apart
// in the rows' arrivals and the saturation file.
QString kvSuffix(const BenchOptions &options)
{
    return options.kvBlocks > 0 ? QStringLiteral("-kv%1").arg(options.kvBlocks) : QString();
}

// A smaller or larger KV cache saturates at another rate: its entries are kept apart
// ("W1-kv2000").
SaturationKey saturationKey(const BenchOptions &options, WorkloadKind kind)
{
    return {workloadName(kind) + kvSuffix(options), options.servers};
}

SaturationEstimate calibrate(const BenchOptions &options, WorkloadKind kind)
{
    SaturationSearch search;
    search.fleet = fleetConfig(options, 250.0, CALIBRATION_SEED);
    search.workload.kind = kind;
    search.workload.seed = CALIBRATION_SEED;
    search.workload.horizon = fromSeconds(options.horizonSeconds);
    search.workload.servers = options.servers;
    const auto started = std::chrono::steady_clock::now();
    const SaturationEstimate estimate = findRoundRobinSaturation(search);
    if (!options.quiet) {
        const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        std::fprintf(stderr, "calibrated %s on %d servers: %.3f req/s (analytic %.3f, offered %.3f, %d rounds, %.1f s)\n",
                     qPrintable(saturationKey(options, kind).first), options.servers, estimate.rate, estimate.analyticRate,
                     estimate.offeredRate, estimate.rounds, wall);
    }
    return estimate;
}

class Sweep {
public:
    explicit Sweep(const BenchOptions &options)
        : m_options(options)
    {
    }

    bool open(QString &error)
    {
        if (m_options.csvPath.isEmpty()) {
            return true;
        }
        m_csv.setFileName(m_options.csvPath);
        if (!m_csv.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
            error = QStringLiteral("%1: %2").arg(m_options.csvPath, m_csv.errorString());
            return false;
        }
        m_csv.write(csvHeader());
        m_csv.flush();
        return true;
    }

    // Every scrape interval and policy over one generated workload.
    bool runAll(const Workload &workload, BenchKey key, std::uint64_t seed, double rate, QString &error)
    {
        for (const double scrapeMs : m_options.scrapeMs) {
            for (const auto &[variant, fleet] : fleetVariants(m_options, scrapeMs, seed)) {
            for (const QString &policyName : m_options.policies) {
                FleetSimulation simulation(fleet, workload);
                auto policies = simulation.makePolicies(policyName.toStdString());
                if (!policies) {
                    error = QStringLiteral("unknown policy \"%1\"; known: %2").arg(policyName, fleetPolicyNames().join(QStringLiteral(", ")));
                    return false;
                }
                const auto started = std::chrono::steady_clock::now();
                const RunResult result = summarize(simulation.run(*policies));
                BenchRow row;
                row.key = key;
                row.key.scrapeMs = scrapeMs;
                row.key.policy = policyName + variant + m_options.label;
                row.seed = seed;
                row.rate = rate;
                row.horizonSeconds = m_options.horizonSeconds;
                row.oracle = policies->front().oracle;
                row.wallSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
                row.metrics = metricsOf(result);
                record(row);
            }
            }
        }
        return true;
    }

    const std::vector<BenchRow> &rows() const { return m_rows; }

private:
    void record(const BenchRow &row)
    {
        if (m_csv.isOpen()) {
            m_csv.write(csvLine(row));
            m_csv.flush();
        }
        if (!m_options.quiet) {
            std::fprintf(stderr, "%-4s %-7s load %.2f seed %llu scrape %5.0f %-24s %6d req  TTFT p90 %7.3f s  out %8.0f tok/s  hit %.3f  %.2f s\n",
                         qPrintable(row.key.workload), qPrintable(row.key.arrivals), row.key.load,
                         static_cast<unsigned long long>(row.seed), row.key.scrapeMs, qPrintable(row.key.policy),
                         static_cast<int>(valueOf(row.metrics, Metric::Requests)), valueOf(row.metrics, Metric::TtftP90),
                         valueOf(row.metrics, Metric::OutputTokensPerSecond), valueOf(row.metrics, Metric::HitRate),
                         row.wallSeconds);
        }
        m_rows.push_back(row);
    }

    const BenchOptions &m_options;
    QFile m_csv;
    std::vector<BenchRow> m_rows;
};

bool writeSummary(const BenchOptions &options, const std::vector<BenchRow> &rows)
{
    const Summaries summaries = aggregate(rows);
    const QByteArray markdown = markdownSummary(summaries);
    const QByteArray checks = renderChecks("CHECK", reproductionChecks(summaries)) + renderChecks("TARGET", targetChecks(summaries));
    if (options.markdownPath.isEmpty()) {
        std::fputs(markdown.constData(), stdout);
    } else {
        QFile file(options.markdownPath);
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
            fail(QStringLiteral("%1: %2").arg(options.markdownPath, file.errorString()));
            return false;
        }
        file.write(markdown);
        file.write("\n## Reproduction checks (section 8.8) and targets (section 8.9)\n\n```\n" + checks + "```\n");
    }
    std::fputs(checks.constData(), stdout);
    return true;
}

int runReport(const BenchOptions &options)
{
    std::vector<BenchRow> rows;
    for (const QString &path : options.reportInputs) {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            fail(QStringLiteral("%1: %2").arg(path, file.errorString()));
            return 1;
        }
        QString error;
        const auto parsed = parseCsv(file.readAll(), error);
        if (!parsed) {
            fail(QStringLiteral("%1: %2").arg(path, error));
            return 1;
        }
        rows.insert(rows.end(), parsed->begin(), parsed->end());
    }
    return writeSummary(options, rows) ? 0 : 1;
}

std::optional<WorkloadKind> kindOf(const QString &name)
{
    const QByteArray utf8 = name.toUtf8();
    return workloadKindFromName(std::string_view(utf8.constData(), static_cast<std::size_t>(utf8.size())));
}

int runCalibrate(const BenchOptions &options)
{
    if (options.saturationPath.isEmpty()) {
        fail(QStringLiteral("calibrate needs --saturation <file>"));
        return 2;
    }
    SaturationTable table;
    for (const QString &name : options.workloads) {
        const auto kind = kindOf(name);
        if (!kind) {
            fail(QStringLiteral("unknown workload \"%1\"").arg(name));
            return 2;
        }
        table[saturationKey(options, *kind)] = calibrate(options, *kind);
    }
    QString error;
    if (!writeSaturation(options.saturationPath, table, options.horizonSeconds, error)) {
        fail(error);
        return 1;
    }
    return 0;
}

int runSweep(const BenchOptions &options)
{
    Sweep sweep(options);
    QString error;
    if (!sweep.open(error)) {
        fail(error);
        return 1;
    }
    if (!options.replayPath.isEmpty()) {
        for (const double speedup : options.speedups) {
            for (int s = 0; s < options.seeds; ++s) {
                const std::uint64_t seed = options.firstSeed + static_cast<std::uint64_t>(s);
                const RequestLogResult log = loadRequestLog(options.replayPath, seed, speedup);
                if (!log.workload) {
                    fail(log.error);
                    return 1;
                }
                const BenchKey key {QStringLiteral("replay"), QStringLiteral("replay"), speedup, 0.0, options.servers, {}};
                if (!sweep.runAll(*log.workload, key, seed, log.workload->offeredRate, error)) {
                    fail(error);
                    return 2;
                }
            }
        }
        return writeSummary(options, sweep.rows()) ? 0 : 1;
    }

    SaturationTable saturation;
    if (!options.saturationPath.isEmpty() && QFile::exists(options.saturationPath)) {
        const auto table = readSaturation(options.saturationPath, error);
        if (!table) {
            fail(error);
            return 1;
        }
        saturation = *table;
    }
    for (const QString &name : options.workloads) {
        const auto kind = kindOf(name);
        if (!kind) {
            fail(QStringLiteral("unknown workload \"%1\"").arg(name));
            return 2;
        }
        const bool burst = options.burst && *kind == WorkloadKind::SharedPrefix;
        double saturationRate = 0.0;
        if (!burst) {
            const SaturationKey key = saturationKey(options, *kind);
            if (!saturation.contains(key)) {
                saturation[key] = calibrate(options, *kind);
            }
            saturationRate = saturation[key].rate;
        }
        const std::vector<double> loads = burst ? std::vector<double> {0.0} : options.loads;
        for (const double load : loads) {
            for (int s = 0; s < options.seeds; ++s) {
                WorkloadSpec spec;
                spec.kind = *kind;
                spec.seed = options.firstSeed + static_cast<std::uint64_t>(s);
                spec.rate = load * saturationRate;
                spec.burst = burst;
                spec.groupOrder = options.groupOrder;
                spec.horizon = fromSeconds(options.horizonSeconds);
                spec.servers = options.servers;
                const Workload workload = generateWorkload(spec);
                QString arrivals = burst ? QStringLiteral("burst") : QStringLiteral("poisson");
                if (options.groupOrder) {
                    arrivals += QStringLiteral("-grouped");
                }
                arrivals += kvSuffix(options);
                const BenchKey key {workloadName(*kind), arrivals, load, 0.0, options.servers, {}};
                if (!sweep.runAll(workload, key, spec.seed, spec.rate, error)) {
                    fail(error);
                    return 2;
                }
            }
        }
    }
    if (!options.markdownPath.isEmpty()) {
        return writeSummary(options, sweep.rows()) ? 0 : 1;
    }
    return 0;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QString error;
    const auto options = parseBenchOptions(QCoreApplication::arguments(), error);
    if (!options) {
        if (!error.isEmpty()) {
            fail(error);
            return 2;
        }
        return 0;
    }
    switch (options->mode) {
    case BenchOptions::Mode::Report:
        return runReport(*options);
    case BenchOptions::Mode::Calibrate:
        return runCalibrate(*options);
    case BenchOptions::Mode::Run:
        return runSweep(*options);
    }
    return 2;
}
