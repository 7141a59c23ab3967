// switchyard-fleet-e2e: one workload through the same prefix_aware policy twice, in
// process on the fleet simulator's virtual clock and end to end through the real gateway
// over sockets to fleet-mode servers running the same engine model on the wall clock,
// and how far apart the two runs land. See README.md ("End to end against in process").

#include "openloopreplay.h"
#include "socketfleet.h"

#include "sim/fleet/fleetdriver.h"
#include "sim/fleet/saturation.h"
#include "sim/fleet/workloads.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTimer>

#include <cmath>
#include <cstdio>
#include <optional>

using namespace Gateway::Sim::Fleet;
using FleetBench::OpenLoopReplay;
using FleetBench::SocketFleet;

namespace {

// Saturation is measured on a seed of its own, as the fleet benchmark does.
constexpr std::uint64_t CALIBRATION_SEED = 1000;
constexpr const char *POLICY = "prefix_aware";

struct Options {
    WorkloadKind workload = WorkloadKind::MultiTurnChat;
    int servers = 4;
    double load = 0.6;
    double rate = 0.0; // > 0: requests per second, no calibration
    double horizonSeconds = 40.0;
    double timeScale = 0.5;
    int metricsIntervalMs = 125;
    std::uint64_t seed = 1;
    double tolerance = 0.10;
    int gatewayThreads = 2;
};

std::optional<Options> parseOptions(const QCoreApplication &app)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Runs one workload with the prefix_aware policy in process (virtual clock) and end to end through the "
        "gateway to fleet-mode servers (wall clock, scaled), and compares the two."));
    parser.addHelpOption();
    const QCommandLineOption workload(QStringLiteral("workload"),
                                      QStringLiteral("W1..W5, W5z (default W3, multi-turn chat)."),
                                      QStringLiteral("name"), QStringLiteral("W3"));
    const QCommandLineOption servers(QStringLiteral("servers"), QStringLiteral("Fleet size (default 4)."),
                                     QStringLiteral("n"), QStringLiteral("4"));
    const QCommandLineOption load(QStringLiteral("load"),
                                  QStringLiteral("Offered load, fraction of round-robin saturation (default 0.6)."),
                                  QStringLiteral("fraction"), QStringLiteral("0.6"));
    const QCommandLineOption rate(QStringLiteral("rate"), QStringLiteral("Requests per second instead of --load."),
                                  QStringLiteral("rps"));
    const QCommandLineOption horizon(QStringLiteral("horizon-s"),
                                     QStringLiteral("Simulated seconds of arrivals (default 40)."),
                                     QStringLiteral("seconds"), QStringLiteral("40"));
    const QCommandLineOption timeScale(QStringLiteral("time-scale"),
                                       QStringLiteral("Wall seconds per simulated second (default 0.5)."),
                                       QStringLiteral("factor"), QStringLiteral("0.5"));
    const QCommandLineOption metrics(QStringLiteral("metrics-ms"),
                                     QStringLiteral("Gateway scrape interval, wall ms (default 125: 250 ms simulated "
                                                    "at the default time scale; at least 50)."),
                                     QStringLiteral("ms"), QStringLiteral("125"));
    const QCommandLineOption seed(QStringLiteral("seed"), QStringLiteral("Workload and router seed (default 1)."),
                                  QStringLiteral("n"), QStringLiteral("1"));
    const QCommandLineOption tolerance(QStringLiteral("tolerance"),
                                       QStringLiteral("Largest relative difference accepted (default 0.10)."),
                                       QStringLiteral("fraction"), QStringLiteral("0.10"));
    parser.addOptions({workload, servers, load, rate, horizon, timeScale, metrics, seed, tolerance});
    parser.process(app);

    Options options;
    const auto kind = workloadKindFromName(parser.value(workload).toStdString());
    if (!kind) {
        std::fprintf(stderr, "switchyard-fleet-e2e: unknown workload %s\n", qPrintable(parser.value(workload)));
        return std::nullopt;
    }
    options.workload = *kind;
    bool ok = true;
    const auto number = [&ok](const QString &text) {
        bool parsed = false;
        const double value = text.toDouble(&parsed);
        ok = ok && parsed && value > 0;
        return value;
    };
    options.servers = static_cast<int>(number(parser.value(servers)));
    options.load = number(parser.value(load));
    if (parser.isSet(rate)) {
        options.rate = number(parser.value(rate));
    }
    options.horizonSeconds = number(parser.value(horizon));
    options.timeScale = number(parser.value(timeScale));
    options.metricsIntervalMs = static_cast<int>(number(parser.value(metrics)));
    options.seed = static_cast<std::uint64_t>(number(parser.value(seed)));
    options.tolerance = number(parser.value(tolerance));
    if (!ok || options.servers < 1 || options.metricsIntervalMs < 50) {
        std::fprintf(stderr, "switchyard-fleet-e2e: every number must be positive (metrics-ms >= 50); see --help\n");
        return std::nullopt;
    }
    return options;
}

double relativeDifference(double endToEnd, double inProcess)
{
    return inProcess != 0.0 ? (endToEnd - inProcess) / inProcess : (endToEnd == 0.0 ? 0.0 : INFINITY);
}

void row(const char *name, double inProcess, double endToEnd, const char *format)
{
    char a[32];
    char b[32];
    std::snprintf(a, sizeof a, format, inProcess);
    std::snprintf(b, sizeof b, format, endToEnd);
    std::printf("%-24s %12s %12s %+10.1f%%\n", name, a, b, 100.0 * relativeDifference(endToEnd, inProcess));
}

double seconds(const QElapsedTimer &clock)
{
    return static_cast<double>(clock.elapsed()) / 1000.0;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const auto options = parseOptions(app);
    if (!options) {
        return 2;
    }

    // The workload: Poisson arrivals at the chosen share of round robin's saturation.
    FleetConfig fleet;
    fleet.servers = options->servers;
    // The gateway scrapes every metricsIntervalMs of wall time: that much simulated
    // staleness in process too.
    fleet.scrapeInterval = fromSeconds(options->metricsIntervalMs / 1000.0 / options->timeScale);
    fleet.routerSeed = options->seed;
    fleet.sendSessionKeys = false; // the replay sends none either
    double rate = options->rate;
    QElapsedTimer clock;
    clock.start();
    if (rate <= 0) {
        SaturationSearch search;
        search.fleet = fleet;
        search.fleet.routerSeed = CALIBRATION_SEED;
        search.workload.kind = options->workload;
        search.workload.seed = CALIBRATION_SEED;
        search.workload.horizon = fromSeconds(options->horizonSeconds);
        search.workload.servers = options->servers;
        const SaturationEstimate saturation = findRoundRobinSaturation(search);
        rate = options->load * saturation.rate;
        std::printf("round-robin saturation of %s on %d servers: %.2f req/s (%.1f s to calibrate); "
                    "offered %.2f req/s (load %.2f)\n",
                    qPrintable(workloadName(options->workload)), options->servers, saturation.rate, seconds(clock),
                    rate, options->load);
    }
    WorkloadSpec spec;
    spec.kind = options->workload;
    spec.seed = options->seed;
    spec.rate = rate;
    spec.constantRate = true; // W2's ramp would make a short run's load depend on where it stops
    spec.horizon = fromSeconds(options->horizonSeconds);
    spec.servers = options->servers;
    const Workload workload = generateWorkload(spec);
    std::printf("workload %s, seed %llu: %zu requests in %.0f simulated seconds\n", qPrintable(workload.name),
                static_cast<unsigned long long>(options->seed), workload.requests.size(), options->horizonSeconds);

    // (a) In process, virtual clock.
    clock.restart();
    const auto inProcess = simulateFleet(fleet, workload, POLICY);
    if (!inProcess) {
        std::fprintf(stderr, "switchyard-fleet-e2e: unknown policy %s\n", POLICY);
        return 2;
    }
    std::printf("in process: %.1f s\n", seconds(clock));

    // (b) End to end: fleet-mode servers on sockets, the embedded gateway, open-loop clients.
    SocketFleet::Settings settings;
    settings.servers = options->servers;
    settings.server.engine = fleet.server;
    if (workload.kvBlocksPerServer) {
        settings.server.engine.numGpuBlocks = *workload.kvBlocksPerServer;
    }
    settings.server.model = fleet.model;
    settings.server.timeScale = options->timeScale;
    settings.metricsIntervalMs = options->metricsIntervalMs;
    settings.gatewayThreads = options->gatewayThreads;
    SocketFleet sockets;
    const auto port = sockets.start(settings);
    if (!port) {
        std::fprintf(stderr, "switchyard-fleet-e2e: %s\n", qPrintable(port.error()));
        return 2;
    }
    OpenLoopReplay::Settings replaySettings;
    replaySettings.port = port.value();
    replaySettings.route = settings.route;
    replaySettings.timeScale = options->timeScale;
    replaySettings.backends = sockets.backendLabels();
    replaySettings.sendCompletions = true;
    replaySettings.deadlineMs = static_cast<int>(1000.0 * toSeconds(fleet.requestTimeout) * options->timeScale);
    OpenLoopReplay replay(workload, replaySettings);
    QObject::connect(&replay, &OpenLoopReplay::finished, &app, &QCoreApplication::quit);
    QTimer::singleShot(0, &replay, &OpenLoopReplay::start);
    clock.restart();
    app.exec();
    const double wall = seconds(clock);

    RunRecord record = replay.record();
    for (int i = 0; i < options->servers; ++i) {
        const auto status = sockets.scrape(i);
        if (!status) {
            std::fprintf(stderr, "switchyard-fleet-e2e: the /metrics of server %d did not answer\n", i);
            return 2;
        }
        record.servers.push_back(*status);
    }
    const RunResult endToEnd = summarize(record);
    std::printf("end to end: %.1f s at time scale %.3g (scrapes every %d ms = %.0f ms simulated); "
                "%d of %zu requests sent over 5 ms late, the latest by %.1f ms\n\n",
                wall, options->timeScale, options->metricsIntervalMs, options->metricsIntervalMs / options->timeScale,
                replay.lateSends(), workload.requests.size(), replay.maxLatenessMs());

    std::printf("%-24s %12s %12s %11s\n", "prefix_aware", "in process", "end to end", "difference");
    std::printf("%-24s %12d %12d\n", "completed", inProcess->completed, endToEnd.completed);
    std::printf("%-24s %12d %12d\n", "timed out / failed", inProcess->timeouts + inProcess->rejected,
                endToEnd.timeouts + endToEnd.rejected);
    row("TTFT p50 (s)", inProcess->ttftP50, endToEnd.ttftP50, "%.4f");
    row("TTFT p90 (s)", inProcess->ttftP90, endToEnd.ttftP90, "%.4f");
    row("E2E p50 (s)", inProcess->e2eP50, endToEnd.e2eP50, "%.3f");
    row("output tok/s", inProcess->outputTokensPerSecond, endToEnd.outputTokensPerSecond, "%.1f");
    row("prefix hit rate", inProcess->hitRate, endToEnd.hitRate, "%.4f");

    const double throughputDiff = relativeDifference(endToEnd.outputTokensPerSecond, inProcess->outputTokensPerSecond);
    const double hitRateDiff = relativeDifference(endToEnd.hitRate, inProcess->hitRate);
    const bool agree = std::abs(throughputDiff) <= options->tolerance && std::abs(hitRateDiff) <= options->tolerance;
    std::printf("\n%s: throughput and hit rate %s within %.3g%%\n", agree ? "PASS" : "FAIL",
                agree ? "agree" : "do not agree", 100.0 * options->tolerance);
    return agree ? 0 : 1;
}
