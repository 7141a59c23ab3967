#include "benchoptions.h"

#include <QCommandLineParser>

#include <cstdio>

namespace FleetBench {

namespace {

std::optional<std::vector<double>> numbers(const QString &list)
{
    std::vector<double> values;
    for (const QString &item : list.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const double value = item.trimmed().toDouble(&ok);
        if (!ok || value < 0.0) {
            return std::nullopt;
        }
        values.push_back(value);
    }
    if (values.empty()) {
        return std::nullopt;
    }
    return values;
}

QStringList names(const QString &list)
{
    QStringList result;
    for (const QString &item : list.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        result.append(item.trimmed());
    }
    return result;
}

} // namespace

std::optional<BenchOptions> parseBenchOptions(const QStringList &arguments, QString &error)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Routing policies over a simulated fleet of GPU inference servers (virtual time).\n"
        "  run        sweep workloads x loads x seeds x scrape intervals x policies; CSV rows\n"
        "  calibrate  find each workload's round-robin saturation rate; write --saturation\n"
        "  report     read CSV files; print the markdown summary and the reproduction checks"));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("mode"), QStringLiteral("run, calibrate or report"));
    parser.addPositionalArgument(QStringLiteral("csv..."), QStringLiteral("report: result files"));
    const QCommandLineOption workloads(QStringLiteral("workloads"), QStringLiteral("W1..W5, W5z, W6chat, W6code (comma-separated)"), QStringLiteral("list"));
    const QCommandLineOption policies(QStringLiteral("policies"), QStringLiteral("policy names (comma-separated; see fleetpolicies.h)"), QStringLiteral("list"));
    const QCommandLineOption loads(QStringLiteral("loads"), QStringLiteral("offered loads as fractions of round-robin saturation"), QStringLiteral("list"));
    const QCommandLineOption seeds(QStringLiteral("seeds"), QStringLiteral("seeds per configuration (default 5)"), QStringLiteral("n"));
    const QCommandLineOption firstSeed(QStringLiteral("first-seed"), QStringLiteral("first seed (default 1)"), QStringLiteral("n"));
    const QCommandLineOption servers(QStringLiteral("servers"), QStringLiteral("fleet size (default 8)"), QStringLiteral("n"));
    const QCommandLineOption scrape(QStringLiteral("scrape-ms"), QStringLiteral("/metrics scrape intervals, 0 = oracle-fresh (default 250)"), QStringLiteral("list"));
    const QCommandLineOption horizon(QStringLiteral("horizon-s"), QStringLiteral("arrivals during this many simulated seconds (default 60)"), QStringLiteral("s"));
    const QCommandLineOption timeout(QStringLiteral("timeout-s"), QStringLiteral("client timeout (default 120)"), QStringLiteral("s"));
    const QCommandLineOption burst(QStringLiteral("burst"), QStringLiteral("W1 burst: one shuffled dataset round at t = 0 (no loads)"));
    const QCommandLineOption groupOrder(QStringLiteral("group-order"), QStringLiteral("W1/W2/W4: dataset in group order, not shuffled (diagnostic)"));
    const QCommandLineOption replay(QStringLiteral("replay"), QStringLiteral("replay a request log (CSV or JSONL, see requestlog.h)"), QStringLiteral("file"));
    const QCommandLineOption speedup(QStringLiteral("speedup"), QStringLiteral("replay: arrival-time compression factors (default 1)"), QStringLiteral("list"));
    const QCommandLineOption saturation(QStringLiteral("saturation"), QStringLiteral("saturation rates file"), QStringLiteral("file"));
    const QCommandLineOption csv(QStringLiteral("csv"), QStringLiteral("write result rows here"), QStringLiteral("file"));
    const QCommandLineOption markdown(QStringLiteral("markdown"), QStringLiteral("write the summary table here"), QStringLiteral("file"));
    const QCommandLineOption quiet(QStringLiteral("quiet"), QStringLiteral("no progress lines"));
    const QCommandLineOption stepScale(QStringLiteral("step-scale"),
                                       QStringLiteral("per-server step-time multipliers, cycled (e.g. 1,2: every other GPU half as fast)"),
                                       QStringLiteral("list"));
    const QCommandLineOption prefillServers(QStringLiteral("prefill-servers"),
                                            QStringLiteral("the first n servers form a prefill pool (P/D; default 0 = aggregated)"),
                                            QStringLiteral("n"));
    const QCommandLineOption pdThresholds(QStringLiteral("pd-thresholds"),
                                          QStringLiteral("P/D: uncached-token thresholds to run, or never (default 16)"),
                                          QStringLiteral("list"));
    const QCommandLineOption pdWorkRatio(QStringLiteral("pd-work-ratio"),
                                         QStringLiteral("P/D: pd.max_prefill_work_ratio (default 1; 0 = llm-d's threshold rule alone)"),
                                         QStringLiteral("x"));
    const QCommandLineOption label(QStringLiteral("label"),
                                   QStringLiteral("appended to every row's policy name (tells fleet variants apart in one report)"),
                                   QStringLiteral("text"));
    const QCommandLineOption replicas(QStringLiteral("replicas"),
                                      QStringLiteral("gateway replicas without shared state, each arrival to a random one (default 1)"),
                                      QStringLiteral("n"));
    const QCommandLineOption kvBlocks(QStringLiteral("kv-blocks"),
                                      QStringLiteral("KV blocks per server (default: the H100 profile's 29,205; W2 sizes its own)"),
                                      QStringLiteral("n"));
    const QCommandLineOption restartAt(QStringLiteral("restart-at-s"),
                                       QStringLiteral("server 0 restarts (empty prefix cache, counters from zero) at this time of each run"),
                                       QStringLiteral("seconds"));
    const QCommandLineOption keepIndex(QStringLiteral("keep-index-on-restart"),
                                       QStringLiteral("routers keep their prefix index through a restart (the behaviour before restarts were detected)"));
    parser.addOptions({workloads, policies, loads, seeds, firstSeed, servers, scrape, horizon, timeout, burst, groupOrder, replay, speedup,
                       saturation, csv, markdown, quiet, stepScale, prefillServers, pdThresholds, pdWorkRatio, label, replicas, kvBlocks,
                       restartAt, keepIndex});
    if (!parser.parse(arguments)) {
        error = parser.errorText();
        return std::nullopt;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        std::fputs(qPrintable(parser.helpText()), stdout);
        return std::nullopt;
    }

    BenchOptions options;
    QStringList positional = parser.positionalArguments();
    const QString mode = positional.isEmpty() ? QStringLiteral("run") : positional.takeFirst();
    if (mode == u"run") {
        options.mode = BenchOptions::Mode::Run;
    } else if (mode == u"calibrate") {
        options.mode = BenchOptions::Mode::Calibrate;
    } else if (mode == u"report") {
        options.mode = BenchOptions::Mode::Report;
        options.reportInputs = positional;
        if (positional.isEmpty()) {
            error = QStringLiteral("report needs at least one CSV file");
            return std::nullopt;
        }
    } else {
        error = QStringLiteral("unknown mode \"%1\" (run, calibrate or report)").arg(mode);
        return std::nullopt;
    }
    if (parser.isSet(workloads)) {
        options.workloads = names(parser.value(workloads));
    }
    if (parser.isSet(policies)) {
        options.policies = names(parser.value(policies));
    }
    auto numberList = [&](const QCommandLineOption &option, std::vector<double> &into) {
        if (!parser.isSet(option)) {
            return true;
        }
        const auto values = numbers(parser.value(option));
        if (!values) {
            error = QStringLiteral("--%1 takes comma-separated non-negative numbers").arg(option.names().first());
            return false;
        }
        into = *values;
        return true;
    };
    auto positiveNumber = [&](const QCommandLineOption &option, double &into) {
        if (!parser.isSet(option)) {
            return true;
        }
        bool ok = false;
        const double value = parser.value(option).toDouble(&ok);
        if (!ok || !(value > 0.0)) {
            error = QStringLiteral("--%1 takes a positive number").arg(option.names().first());
            return false;
        }
        into = value;
        return true;
    };
    double seedCount = options.seeds;
    double first = static_cast<double>(options.firstSeed);
    double fleet = options.servers;
    if (!numberList(loads, options.loads) || !numberList(scrape, options.scrapeMs) || !numberList(speedup, options.speedups)
        || !positiveNumber(seeds, seedCount) || !positiveNumber(firstSeed, first) || !positiveNumber(servers, fleet)
        || !positiveNumber(horizon, options.horizonSeconds) || !positiveNumber(timeout, options.timeoutSeconds)) {
        return std::nullopt;
    }
    options.seeds = static_cast<int>(seedCount);
    options.firstSeed = static_cast<std::uint64_t>(first);
    options.servers = static_cast<int>(fleet);
    options.burst = parser.isSet(burst);
    options.groupOrder = parser.isSet(groupOrder);
    options.replayPath = parser.value(replay);
    options.saturationPath = parser.value(saturation);
    options.csvPath = parser.value(csv);
    options.markdownPath = parser.value(markdown);
    options.quiet = parser.isSet(quiet);
    options.label = parser.value(label);
    if (!numberList(stepScale, options.stepScale)) {
        return std::nullopt;
    }
    for (const double scale : options.stepScale) {
        if (!(scale > 0.0)) {
            error = QStringLiteral("--step-scale takes positive numbers");
            return std::nullopt;
        }
    }
    if (parser.isSet(prefillServers)) {
        bool ok = false;
        options.prefillServers = parser.value(prefillServers).toInt(&ok);
        if (!ok || options.prefillServers < 0 || options.prefillServers >= options.servers) {
            error = QStringLiteral("--prefill-servers takes 0 .. servers - 1");
            return std::nullopt;
        }
    }
    if (parser.isSet(replicas)) {
        bool ok = false;
        options.replicas = parser.value(replicas).toInt(&ok);
        if (!ok || options.replicas < 1 || options.replicas > 64) {
            error = QStringLiteral("--replicas takes an integer from 1 to 64");
            return std::nullopt;
        }
    }
    if (parser.isSet(kvBlocks)) {
        bool ok = false;
        options.kvBlocks = parser.value(kvBlocks).toInt(&ok);
        if (!ok || options.kvBlocks < 1) {
            error = QStringLiteral("--kv-blocks takes a positive integer");
            return std::nullopt;
        }
    }
    if (parser.isSet(restartAt)) {
        bool ok = false;
        options.restartAtSeconds = parser.value(restartAt).toDouble(&ok);
        if (!ok || !(options.restartAtSeconds >= 0.0)) {
            error = QStringLiteral("--restart-at-s takes a time in seconds, 0 or more");
            return std::nullopt;
        }
    }
    options.keepIndexOnRestart = parser.isSet(keepIndex);
    if (parser.isSet(pdWorkRatio)) {
        bool ok = false;
        options.pdWorkRatio = parser.value(pdWorkRatio).toDouble(&ok);
        if (!ok || options.pdWorkRatio < 0.0 || options.pdWorkRatio > Gateway::Routing::MAX_PREFILL_WORK_RATIO) {
            error = QStringLiteral("--pd-work-ratio takes a number from 0 to %1").arg(Gateway::Routing::MAX_PREFILL_WORK_RATIO);
            return std::nullopt;
        }
    }
    if (parser.isSet(pdThresholds)) {
        options.pdThresholds.clear();
        for (const QString &item : names(parser.value(pdThresholds))) {
            bool ok = false;
            const int threshold = item == u"never" ? -1 : item.toInt(&ok);
            if (item != u"never" && (!ok || threshold < 0)) {
                error = QStringLiteral("--pd-thresholds takes non-negative integers or never");
                return std::nullopt;
            }
            options.pdThresholds.push_back(threshold);
        }
    }
    return options;
}

} // namespace FleetBench
