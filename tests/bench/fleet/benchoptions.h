#pragma once

#include "routing/prefilldecode.h"

#include <QString>
#include <QStringList>

#include <cstdint>
#include <optional>
#include <vector>

namespace FleetBench {

// The command line of switchyard-fleet-bench (see --help).
struct BenchOptions {
    enum class Mode { Run, Calibrate, Report };

    Mode mode = Mode::Run;
    QStringList workloads {QStringLiteral("W1")};
    QStringList policies {QStringLiteral("round_robin"), QStringLiteral("prefix_aware")};
    std::vector<double> loads {0.2, 0.4, 0.6, 0.8, 1.0, 1.2};
    int seeds = 5;
    std::uint64_t firstSeed = 1;
    int servers = 8;
    std::vector<double> scrapeMs {250.0};
    double horizonSeconds = 60.0;
    double timeoutSeconds = 120.0;
    bool burst = false;          // W1 burst (one round at t = 0) instead of the load sweep
    bool groupOrder = false;     // W1/W2/W4 datasets unshuffled (diagnostic; see WorkloadSpec)
    QString replayPath;          // replay a request log instead of the synthetic workloads
    std::vector<double> speedups {1.0}; // replay: arrival-time compression factors (the "load" column)
    QString saturationPath;      // calibrate: written; run: read (missing entries are calibrated)
    QString csvPath;             // run: one row per run
    QString markdownPath;        // run/report: the summary table
    QStringList reportInputs;    // report: CSV files
    bool quiet = false;
    // W6 (mixed fleet): per-server step-time multipliers, cycled over the servers (empty =
    // all 1); the first `prefillServers` servers form a prefill pool (0 = aggregated),
    // run once per P/D threshold (-1 = never disaggregate).
    std::vector<double> stepScale;
    int prefillServers = 0;
    std::vector<int> pdThresholds {16};
    double pdWorkRatio = Gateway::Routing::PrefillDecodeSettings {}.maxPrefillWorkRatio;
    QString label; // appended to every row's policy name, to tell fleet variants apart
    // Gateway replicas without shared state (FleetConfig::replicas); above 1 the rows'
    // policy names carry "/<n>rep".
    int replicas = 1;
    // KV blocks per server (0 = the server profile's); a workload that sizes its own
    // cache (W2) keeps its size.
    int kvBlocks = 0;
    double restartAtSeconds = -1.0; // --restart-at-s; < 0 = no restart
    bool keepIndexOnRestart = false;
};

// nullopt with `error` set (or empty when --help was printed).
std::optional<BenchOptions> parseBenchOptions(const QStringList &arguments, QString &error);

} // namespace FleetBench
