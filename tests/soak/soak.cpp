// Soak and scale runs of the switchyard binary (docs/RELIABILITY.md, "Soak and scale").
//
// Soak: open-loop load at a fixed rate (a share of it streaming) through a gateway child
// process onto simulated upstreams that fail a fixed share of requests on purpose. Passes
// when no request fails except the injected failures (counted on both sides and equal),
// resident memory grows less than the allowed share after warm-up, and the gateway's
// descriptors (its upstream connection pool aside) are back to where they started.
//
// Held streams (--held-streams N): N streams held open at once by a simulated upstream
// that pauses after the first event; records the gateway's memory per stream.

#include "gatewayprocess.h"
#include "h2cupstream.h"
#include "openloopload.h"
#include "processstats.h"
#include "resourcesampler.h"
#include "sim/simulatedupstream.h"
#include "testhttpclient.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QEventLoop>
#include <QFile>
#include <QMap>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>

using Gateway::Sim::Behaviour;
using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::TestHttpClient;

namespace {

struct Options {
    QString binary;
    double durationSeconds = 600;
    double warmupSeconds = 60;
    double rate = 2000;
    double streamShare = 1.0 / 3;
    double faultRate = 0.01;
    double maxRssGrowth = 0.05;
    int threads = 2;
    int heldStreams = 0;
    bool upstreamHttp2 = false; // held streams over h2c (one multiplexed connection) instead of HTTP/1.1
    QString samplesPath;
};

void say(const QString &line)
{
    std::fprintf(stderr, "soak: %s\n", qPrintable(line));
    std::fflush(stderr);
}

void runFor(double seconds, const std::function<void()> &everyTenSeconds)
{
    QEventLoop loop;
    QTimer progress;
    QObject::connect(&progress, &QTimer::timeout, &loop, everyTenSeconds);
    progress.start(10000);
    QTimer::singleShot(static_cast<int>(seconds * 1000), &loop, &QEventLoop::quit);
    loop.exec();
}

// `providerExtra` is added to every provider's mapping (e.g. its timeouts).
QByteArray policy(const Options &options, const QList<const SimulatedUpstream *> &sims, const QByteArray &providerExtra = {})
{
    QByteArray yaml = "gateway:\n  listen: 127.0.0.1:0\n  threads: " + QByteArray::number(options.threads) +
                      "\n  max_connections: 30000\nproviders:\n";
    for (const SimulatedUpstream *sim : sims) {
        yaml += "  - {name: " + sim->name().toUtf8() + ", type: vllm, base_url: " + sim->baseUrl() + providerExtra + "}\n";
    }
    // One target per route and no fallback: every injected failure reaches the client,
    // so both sides can count them.
    yaml += "routes:\n";
    for (const SimulatedUpstream *sim : sims) {
        yaml += "  - model: chat-" + sim->name().toUtf8() + "\n    targets: [{provider: " + sim->name().toUtf8() +
                ", model: m}]\n";
    }
    return yaml;
}

bool warm(quint16 port, const QByteArray &model)
{
    TestHttpClient http {port};
    http.post("/v1/chat/completions", "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}");
    return http.waitForResponses(1, 30000) && http.responses().constFirst().status == 200;
}

// Descriptors of the gateway other than its upstream connection pool, whose size is
// bounded (idle connections per worker) but depends on the concurrency it saw.
int ownDescriptors(const Soak::ResourceSampler::Sample &sample)
{
    return sample.fds - sample.upstreamSockets;
}

// Waits (processing events) until the gateway's own descriptors are at most `baseline`.
bool descriptorsBackTo(const Soak::ResourceSampler &sampler, int baseline, int &now)
{
    return QTest::qWaitFor(
        [&] {
            now = ownDescriptors(sampler.sampleNow());
            return now <= baseline;
        },
        60000);
}

int runSoak(const Options &options)
{
    std::vector<std::unique_ptr<SimulatedUpstream>> sims;
    QList<const SimulatedUpstream *> simList;
    QList<quint16> ports;
    QList<QByteArray> models;
    for (const char *name : {"sim-a", "sim-b"}) {
        sims.push_back(std::make_unique<SimulatedUpstream>(QString::fromLatin1(name), Flavor::OpenAi));
        const auto port = sims.back()->listen();
        if (!port) {
            say(QStringLiteral("simulated upstream: %1").arg(port.error()));
            return 2;
        }
        sims.back()->setSeed(static_cast<quint32>(ports.size() + 11));
        simList.append(sims.back().get());
        ports.append(port.value());
        models.append(QByteArray("chat-" + QByteArray(name)));
    }
    Soak::GatewayProcess gateway {options.binary};
    if (const QString error = gateway.start(policy(options, simList)); !error.isEmpty()) {
        say(error);
        return 2;
    }
    for (const QByteArray &model : models) {
        if (!warm(gateway.port(), model)) {
            say(QStringLiteral("the gateway does not answer %1").arg(QString::fromUtf8(model)));
            return 2;
        }
    }
    // Faults start once the warm-up requests are through, so every one is in the count.
    Behaviour faulty;
    faulty.errorRate = options.faultRate;
    faulty.errorStatus = 500;
    for (const auto &sim : sims) {
        sim->setBehaviour(faulty);
    }

    std::unique_ptr<QFile> csv;
    if (!options.samplesPath.isEmpty()) {
        csv = std::make_unique<QFile>(options.samplesPath);
        if (!csv->open(QIODevice::WriteOnly | QIODevice::Truncate)) {
            say(QStringLiteral("cannot write %1").arg(options.samplesPath));
            return 2;
        }
    }
    Soak::ResourceSampler sampler {gateway.pid(), ports, csv.get()};
    const auto before = sampler.sampleNow();
    const int baseline = ownDescriptors(before);
    say(QStringLiteral("gateway pid %1 on port %2: RSS %3 KiB, %4 descriptors (%5 without the upstream pool)")
            .arg(gateway.pid())
            .arg(gateway.port())
            .arg(before.rssKiB)
            .arg(before.fds)
            .arg(baseline));
    say(QStringLiteral("%1 s at %2 requests/s, %3 streaming, %4 of upstream answers fail on purpose; warm-up %5 s")
            .arg(options.durationSeconds)
            .arg(options.rate)
            .arg(options.streamShare, 0, 'f', 3)
            .arg(options.faultRate)
            .arg(options.warmupSeconds));

    Soak::OpenLoopLoad::Settings settings;
    settings.port = gateway.port();
    settings.rate = options.rate;
    settings.streamShare = options.streamShare;
    settings.models = models;
    Soak::OpenLoopLoad load {settings};
    sampler.start();
    load.start();
    runFor(options.durationSeconds, [&] {
        const auto &tally = load.tally();
        const auto &last = sampler.samples().back();
        say(QStringLiteral("t=%1 s sent %2 complete %3 injected %4 other %5 | RSS %6 KiB, %7 fds, %8 upstream sockets")
                .arg(last.seconds, 0, 'f', 0)
                .arg(tally.sent)
                .arg(tally.complete)
                .arg(tally.injected)
                .arg(tally.other)
                .arg(last.rssKiB)
                .arg(last.fds)
                .arg(last.upstreamSockets));
    });
    load.stopSending();
    const bool drained = QTest::qWaitFor([&] { return load.outstanding() == 0; }, 60000);
    const double loadEnd = sampler.samples().back().seconds;
    load.closeConnections();
    int after = 0;
    const bool descriptorsBack = descriptorsBackTo(sampler, baseline, after);
    const auto end = sampler.sampleNow();
    sampler.stop();

    // Growth after warm-up: the median of the 10 s after warm-up against the median of
    // the last 10 s under load, so one sample's allocator noise decides nothing.
    const qint64 rssStart = sampler.medianRssKiB(options.warmupSeconds, options.warmupSeconds + 10);
    const qint64 rssEnd = sampler.medianRssKiB(loadEnd - 10, loadEnd + 0.5);
    qint64 rssPeak = 0;
    int fdPeak = 0;
    int poolPeak = 0;
    for (const auto &sample : sampler.samples()) {
        rssPeak = std::max(rssPeak, sample.rssKiB);
        fdPeak = std::max(fdPeak, sample.fds);
        poolPeak = std::max(poolPeak, sample.upstreamSockets);
    }
    const double growth = rssStart > 0 ? static_cast<double>(rssEnd - rssStart) / static_cast<double>(rssStart) : 1.0;
    qint64 injectedUpstream = 0;
    qint64 upstreamRequests = 0;
    for (const auto &sim : sims) {
        injectedUpstream += sim->failuresInjected();
        upstreamRequests += sim->requestsReceived();
    }
    const auto &tally = load.tally();
    const qint64 answered = tally.complete + tally.injected + tally.other;
    const bool stoppedCleanly = gateway.stop();

    say(QStringLiteral("sent %1 (%2 requests/s achieved), complete %3 (%4 streams), injected failures %5 "
                       "(upstreams injected %6 of %7), other errors %8")
            .arg(tally.sent)
            .arg(static_cast<double>(tally.sent) / loadEnd, 0, 'f', 0)
            .arg(tally.complete)
            .arg(tally.completeStreams)
            .arg(tally.injected)
            .arg(injectedUpstream)
            .arg(upstreamRequests)
            .arg(tally.other));
    for (auto it = tally.otherKinds.cbegin(); it != tally.otherKinds.cend(); ++it) {
        say(QStringLiteral("  other error: %1 x %2").arg(QString::fromUtf8(it.key())).arg(it.value()));
    }
    say(QStringLiteral("client connections peak %1; ticks that found every connection busy %2")
            .arg(tally.peakConnections)
            .arg(tally.late));
    say(QStringLiteral("RSS %1 KiB after warm-up, %2 KiB at the end (%3%), peak %4 KiB; before the load %5 KiB")
            .arg(rssStart)
            .arg(rssEnd)
            .arg(growth * 100, 0, 'f', 2)
            .arg(rssPeak)
            .arg(before.rssKiB));
    say(QStringLiteral("descriptors: %1 before, peak %2, %3 after (without the upstream pool: %4 before, %5 after; "
                       "pool %6 after, peak %7)")
            .arg(before.fds)
            .arg(fdPeak)
            .arg(end.fds)
            .arg(baseline)
            .arg(after)
            .arg(end.upstreamSockets)
            .arg(poolPeak));

    bool pass = true;
    const auto check = [&pass](bool ok, const QString &what) {
        say(QStringLiteral("%1: %2").arg(ok ? QStringLiteral("PASS") : QStringLiteral("FAIL"), what));
        pass = pass && ok;
    };
    const double achieved = static_cast<double>(tally.sent) / loadEnd;
    check(achieved >= 0.95 * options.rate, QStringLiteral("the schedule was kept: %1 of %2 requests/s sent "
                                                          "(else this machine could not apply the load)")
                                               .arg(achieved, 0, 'f', 0)
                                               .arg(options.rate));
    check(drained && answered == tally.sent, QStringLiteral("every request answered (%1 of %2)").arg(answered).arg(tally.sent));
    check(tally.other == 0, QStringLiteral("no error beyond the injected ones (%1 others)").arg(tally.other));
    check(tally.injected == injectedUpstream, QStringLiteral("injected failures seen by clients equal those injected (%1, %2)")
                                                  .arg(tally.injected)
                                                  .arg(injectedUpstream));
    check(growth < options.maxRssGrowth, QStringLiteral("RSS growth after warm-up %1% < %2%")
                                             .arg(growth * 100, 0, 'f', 2)
                                             .arg(options.maxRssGrowth * 100));
    check(descriptorsBack, QStringLiteral("descriptors back to baseline (%1 <= %2)").arg(after).arg(baseline));
    check(stoppedCleanly, QStringLiteral("the gateway drained and exited with status 0"));
    return pass ? 0 : 1;
}

// The upstream of a held-streams run: the HTTP/1.1 simulated upstream (one connection
// per stream), or the h2c one (streams multiplexed over a few connections).
class HeldStreamsUpstream {
public:
    virtual ~HeldStreamsUpstream() = default;
    // Empty on success, else why not.
    virtual QString listen() = 0;
    virtual quint16 port() const = 0;
    // The provider entry of the policy, after "name: slow, type: vllm, ".
    virtual QByteArray providerFields() const = 0;
    // From now on each stream sends its first event, then waits until released.
    virtual void holdAfterFirstEvent() = 0;
    virtual int held() const = 0;
    virtual void release() = 0;
    virtual QString describe() const = 0;
};

class Http11Upstream final : public HeldStreamsUpstream {
public:
    QString listen() override
    {
        const auto port = m_sim.listen();
        m_port = port ? port.value() : 0;
        return port ? QString() : QStringLiteral("simulated upstream: %1").arg(port.error());
    }
    quint16 port() const override { return m_port; }
    QByteArray providerFields() const override { return "base_url: " + m_sim.baseUrl(); }
    void holdAfterFirstEvent() override
    {
        Behaviour slow;
        slow.holdStreamAfterChunks = 1;
        m_sim.setBehaviour(slow);
    }
    int held() const override { return m_sim.heldStreams(); }
    void release() override { m_sim.releaseHeldStreams(); }
    QString describe() const override { return QStringLiteral("HTTP/1.1 upstream"); }

private:
    SimulatedUpstream m_sim {QStringLiteral("slow"), Flavor::OpenAi};
    quint16 m_port = 0;
};

class H2cHeldUpstream final : public HeldStreamsUpstream {
public:
    QString listen() override { return m_h2c.listen() ? QString() : QStringLiteral("h2c upstream: cannot listen"); }
    quint16 port() const override { return m_h2c.port(); }
    QByteArray providerFields() const override { return "base_url: " + m_h2c.baseUrl() + ", http2_prior_knowledge: true"; }
    void holdAfterFirstEvent() override { m_h2c.setBehaviour({.holdAfterEvents = 1}); }
    int held() const override { return m_h2c.counters().heldStreams; }
    void release() override { m_h2c.releaseHeldStreams(); }
    QString describe() const override
    {
        return QStringLiteral("h2c upstream, %1 connections accepted").arg(m_h2c.counters().connectionsAccepted);
    }

private:
    TestSupport::H2cUpstream m_h2c;
};

int runHeldStreams(const Options &options)
{
    const int streams = options.heldStreams;
    const std::unique_ptr<HeldStreamsUpstream> upstream =
        options.upstreamHttp2 ? std::unique_ptr<HeldStreamsUpstream>(std::make_unique<H2cHeldUpstream>())
                              : std::make_unique<Http11Upstream>();
    if (const QString error = upstream->listen(); !error.isEmpty()) {
        say(error);
        return 2;
    }
    Soak::GatewayProcess gateway {options.binary};
    // A held stream is silent until released; the default idle_ms (60 s) would end the
    // streams opened first before the last ones are open.
    const QByteArray config = "gateway:\n  listen: 127.0.0.1:0\n  threads: " + QByteArray::number(options.threads) +
                              "\n  max_connections: 30000\nproviders:\n  - {name: slow, type: vllm, " +
                              upstream->providerFields() + ", timeouts: {idle_ms: 3600000}}\nroutes:\n"
                              "  - model: chat-slow\n    targets: [{provider: slow, model: m}]\n";
    if (const QString error = gateway.start(config); !error.isEmpty()) {
        say(error);
        return 2;
    }
    if (!warm(gateway.port(), "chat-slow")) {
        say(QStringLiteral("the gateway does not answer"));
        return 2;
    }
    upstream->holdAfterFirstEvent();
    Soak::ResourceSampler sampler {gateway.pid(), {upstream->port()}};
    const auto settledRss = [&sampler] {
        // The median of five readings a second apart: memory is measured, not waited for.
        std::vector<qint64> values;
        for (int i = 0; i < 5; ++i) {
            values.push_back(sampler.sampleNow().rssKiB);
            QTest::qWait(1000);
        }
        std::sort(values.begin(), values.end());
        return values[2];
    };
    const qint64 rssBefore = settledRss();
    const auto before = sampler.sampleNow();
    const int baseline = ownDescriptors(before);

    std::vector<std::unique_ptr<TestHttpClient>> clients;
    constexpr int BATCH = 500;
    const QByteArray body = R"({"model":"chat-slow","stream":true,"max_tokens":4,"messages":[{"role":"user","content":"Tell me a story"}]})";
    while (static_cast<int>(clients.size()) < streams) {
        for (int i = 0; i < BATCH && static_cast<int>(clients.size()) < streams; ++i) {
            clients.push_back(std::make_unique<TestHttpClient>(gateway.port()));
            clients.back()->post("/v1/chat/completions", body);
        }
        const int expected = static_cast<int>(clients.size());
        if (!QTest::qWaitFor([&] { return upstream->held() >= expected; }, 120000)) {
            say(QStringLiteral("only %1 of %2 streams reached the upstream").arg(upstream->held()).arg(expected));
            return 1;
        }
    }
    const bool allStarted = QTest::qWaitFor(
        [&] {
            return std::all_of(clients.begin(), clients.end(),
                               [](const auto &client) { return !client->currentResponse().sseDataLines().isEmpty(); });
        },
        120000);
    const qint64 rssHeld = settledRss();
    const auto held = sampler.sampleNow();
    const double perStreamKiB = static_cast<double>(rssHeld - rssBefore) / streams;
    say(QStringLiteral("%1 streams held (first event at every client: %2); gateway RSS %3 KiB before, %4 KiB held: "
                       "%5 KiB per stream; %6 descriptors (%7 before)")
            .arg(streams)
            .arg(allStarted ? QStringLiteral("yes") : QStringLiteral("no"))
            .arg(rssBefore)
            .arg(rssHeld)
            .arg(perStreamKiB, 0, 'f', 1)
            .arg(held.fds)
            .arg(before.fds));

    say(upstream->describe());
    upstream->release();
    const bool allDone = QTest::qWaitFor(
        [&] {
            return std::all_of(clients.begin(), clients.end(), [](const auto &client) { return !client->responses().isEmpty(); });
        },
        120000);
    int complete = 0;
    QMap<QByteArray, int> incomplete; // how the others ended
    for (const auto &client : clients) {
        const auto responses = client->responses();
        if (responses.isEmpty()) {
            ++incomplete["no answer"];
        } else if (responses.constFirst().status == 200 && responses.constFirst().sseDataLines().contains("[DONE]")) {
            ++complete;
        } else {
            const QList<QByteArray> events = responses.constFirst().sseDataLines();
            ++incomplete[QByteArray::number(responses.constFirst().status) + ' ' + (events.isEmpty() ? QByteArray() : events.constLast().left(160))];
        }
    }
    for (auto it = incomplete.cbegin(); it != incomplete.cend(); ++it) {
        say(QStringLiteral("  incomplete: %1 x %2").arg(QString::fromUtf8(it.key())).arg(it.value()));
    }
    clients.clear();
    int after = 0;
    const bool descriptorsBack = descriptorsBackTo(sampler, baseline, after);
    const qint64 rssAfter = sampler.sampleNow().rssKiB;
    const bool stoppedCleanly = gateway.stop();
    say(QStringLiteral("released: %1 of %2 complete with [DONE]; RSS %3 KiB after; descriptors without the upstream "
                       "pool %4 (baseline %5)")
            .arg(complete)
            .arg(streams)
            .arg(rssAfter)
            .arg(after)
            .arg(baseline));
    const bool pass = allStarted && allDone && complete == streams && descriptorsBack && stoppedCleanly;
    say(QStringLiteral("%1: held streams").arg(pass ? QStringLiteral("PASS") : QStringLiteral("FAIL")));
    return pass ? 0 : 1;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app {argc, argv};
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Soak and scale runs of the switchyard binary."));
    parser.addHelpOption();
    const QCommandLineOption binary {QStringLiteral("switchyard"), QStringLiteral("The switchyard binary."), QStringLiteral("PATH")};
    const QCommandLineOption duration {QStringLiteral("duration"), QStringLiteral("Seconds of load (default 600)."),
                                       QStringLiteral("S")};
    const QCommandLineOption warmup {QStringLiteral("warmup"),
                                     QStringLiteral("Seconds of load before memory is compared (default 60)."),
                                     QStringLiteral("S")};
    const QCommandLineOption rate {QStringLiteral("rate"), QStringLiteral("Requests per second (default 2000)."),
                                   QStringLiteral("R")};
    const QCommandLineOption streamShare {QStringLiteral("stream-share"),
                                          QStringLiteral("Share of requests that stream (default 1/3)."), QStringLiteral("F")};
    const QCommandLineOption faultRate {QStringLiteral("fault-rate"),
                                        QStringLiteral("Share of upstream answers that fail (default 0.01)."),
                                        QStringLiteral("F")};
    const QCommandLineOption rssGrowth {QStringLiteral("max-rss-growth"),
                                        QStringLiteral("Allowed RSS growth after warm-up (default 0.05)."), QStringLiteral("F")};
    const QCommandLineOption threads {QStringLiteral("threads"), QStringLiteral("Gateway worker threads (default 2)."),
                                      QStringLiteral("N")};
    const QCommandLineOption samples {QStringLiteral("samples"),
                                      QStringLiteral("Write the once-a-second samples here (CSV)."), QStringLiteral("FILE")};
    const QCommandLineOption heldStreams {
        QStringLiteral("held-streams"),
        QStringLiteral("Instead of the soak: hold N streams open at once and measure memory per stream."), QStringLiteral("N")};
    const QCommandLineOption upstreamHttp2 {
        QStringLiteral("upstream-http2"),
        QStringLiteral("With --held-streams: the upstream speaks h2c and the provider has http2_prior_knowledge, so "
                       "streams share a few upstream connections (one descriptor per stream in the gateway).")};
    parser.addOptions({binary, duration, warmup, rate, streamShare, faultRate, rssGrowth, threads, samples, heldStreams,
                       upstreamHttp2});
    parser.process(app);

    Options options;
    options.binary = parser.value(binary);
    if (options.binary.isEmpty()) {
        say(QStringLiteral("--switchyard PATH is required"));
        return 2;
    }
    const auto number = [&parser](const QCommandLineOption &option, double fallback) {
        return parser.isSet(option) ? parser.value(option).toDouble() : fallback;
    };
    options.durationSeconds = number(duration, options.durationSeconds);
    options.warmupSeconds = number(warmup, options.warmupSeconds);
    options.rate = number(rate, options.rate);
    options.streamShare = number(streamShare, options.streamShare);
    options.faultRate = number(faultRate, options.faultRate);
    options.maxRssGrowth = number(rssGrowth, options.maxRssGrowth);
    options.threads = static_cast<int>(number(threads, options.threads));
    options.heldStreams = static_cast<int>(number(heldStreams, 0));
    options.samplesPath = parser.value(samples);
    options.upstreamHttp2 = parser.isSet(upstreamHttp2);
    if (options.heldStreams == 0 && options.warmupSeconds + 20 > options.durationSeconds) {
        say(QStringLiteral("--duration must exceed --warmup by at least 20 s"));
        return 2;
    }

    // The gateway child inherits the raised limit; this process holds the client side of
    // every connection (and the simulated upstream's side of the upstream ones).
    const qint64 limit = TestSupport::raiseFileDescriptorLimit();
    // Over HTTP/1.1 each stream costs the gateway a client and an upstream connection (and
    // this process the other ends); over h2c the upstream side is a few shared connections.
    const qint64 needed = (options.upstreamHttp2 ? 1LL : 2LL) * options.heldStreams + 512;
    if (options.heldStreams > 0 && limit < needed) {
        say(QStringLiteral("RLIMIT_NOFILE allows %1 descriptors; %2 held streams need %3 here and in the gateway "
                           "(a client connection each, and an upstream one each over HTTP/1.1). Raise the hard "
                           "limit (ulimit -Hn), or use --upstream-http2.")
                .arg(limit)
                .arg(options.heldStreams)
                .arg(needed));
        return 2;
    }
    return options.heldStreams > 0 ? runHeldStreams(options) : runSoak(options);
}
