// Switchyard's entry point: parses the command line, loads the policy (or starts the
// demo), runs the embedded gateway and one console: the window, the terminal view or
// structured log lines. Only this file knows whether a GUI exists.

#include "auditcommands.h"
#include "commandline.h"
#include "demo.h"
#include "demotraffic.h"
#include "exposurewarning.h"
#include "logconsole.h"
#include "logline.h"
#include "resourcelimits.h"
#include "shutdowncoordinator.h"
#include "storecommands.h"
#include "terminalconsole.h"
#include "unixsignals.h"

#include "admintoken.h"
#include "config/policyloader.h"
#include "config/secretmerge.h"
#include "database.h"
#include "datadirectory.h"
#include "logwriter.h"
#include "semanticcachewriter.h"
#include "spendjournalwriter.h"
#include "policyservice.h"
#include "runtime/gatewayruntime.h"
#include "shared/redisendpoint.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QHostAddress>

#ifdef SWITCHYARD_WITH_GUI
#include "eventloopprobe.h"
#include "mainwindow.h"
#include <QApplication>
#include <QTimer>
#endif

#include <mutex>
#include <cstdio>
#include <memory>
#include <optional>
#include <unistd.h>

namespace {

bool displayAvailable()
{
    return qEnvironmentVariableIsSet("DISPLAY") || qEnvironmentVariableIsSet("WAYLAND_DISPLAY") ||
           qEnvironmentVariable("QT_QPA_PLATFORM") == u"offscreen";
}

std::unique_ptr<QCoreApplication> createApplication(int &argc, char **argv, bool &gui)
{
#ifdef SWITCHYARD_WITH_GUI
    gui = !App::wantsNoGui(argc, argv) && displayAvailable();
    if (gui) {
        return std::make_unique<QApplication>(argc, argv);
    }
#else
    gui = false;
#endif
    return std::make_unique<QCoreApplication>(argc, argv);
}

// Applies --listen and --threads on top of the policy's gateway section.
bool applyOverrides(const App::CommandLine &options, Gateway::Config::Policy &policy)
{
    if (!options.listen.isEmpty()) {
        const qsizetype colon = options.listen.lastIndexOf(u':');
        bool ok = false;
        const uint port = colon > 0 ? options.listen.mid(colon + 1).toUInt(&ok) : 0;
        QString host = colon > 0 ? options.listen.left(colon) : QString();
        if (host.startsWith(u'[') && host.endsWith(u']')) {
            host = host.mid(1, host.size() - 2);
        }
        if (!ok || port > 65535 || (host != u"localhost" && QHostAddress(host).isNull())) {
            std::fprintf(stderr, "switchyard: --listen expects HOST:PORT with an IP address, e.g. 127.0.0.1:8420\n");
            return false;
        }
        policy.gateway.listenHost = host;
        policy.gateway.listenPort = static_cast<quint16>(port);
    }
    if (options.threads >= 0) {
        policy.gateway.threads = options.threads;
    }
    return true;
}

} // namespace

int main(int argc, char **argv)
{
    // Qt's poll-based UNIX event dispatcher is leaner per wake-up than the GLib one on
    // the data-plane threads; an explicit user setting wins.
    if (!qEnvironmentVariableIsSet("QT_NO_GLIB")) {
        qputenv("QT_NO_GLIB", "1");
    }
    App::raiseFileDescriptorLimit();

    bool gui = false;
    auto app = createApplication(argc, argv, gui);
    QCoreApplication::setApplicationName(QStringLiteral("switchyard"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SWITCHYARD_VERSION));
    const App::CommandLine options = App::parseCommandLine(QCoreApplication::arguments());

    // The demo keeps its own store, so trying it never touches the real policy history.
    const QString dataOverride =
        options.demo ? (options.dataDir.isEmpty() ? QString() : options.dataDir + QStringLiteral("/demo")) : options.dataDir;
    auto dataDir = Storage::prepareDataDirectory(dataOverride);
    if (dataDir && options.demo && options.dataDir.isEmpty()) {
        dataDir = Storage::prepareDataDirectory(*dataDir + QStringLiteral("/demo"));
    }
    if (!dataDir) {
        std::fprintf(stderr, "switchyard: %s\n", qPrintable(dataDir.error()));
        return 1;
    }
    if (options.command == App::CommandLine::Command::AuditVerify ||
        options.command == App::CommandLine::Command::AuditList) {
        return App::runAuditCommand(options, *dataDir);
    }
    if (options.command != App::CommandLine::Command::Run) {
        return App::runStoreCommand(options, *dataDir);
    }

    std::unique_ptr<App::Demo> demo;
    std::optional<Gateway::Config::Policy> configured;
    QString configuredSource;
    if (options.demo) {
        if (!options.configPath.isEmpty()) {
            std::fprintf(stderr, "switchyard: --demo uses its own policy; ignoring --config %s\n",
                         qPrintable(options.configPath));
        }
        demo = std::make_unique<App::Demo>();
        auto demoPolicy = demo->start();
        if (!demoPolicy) {
            std::fprintf(stderr, "switchyard: %s\n", qPrintable(demoPolicy.error()));
            return 1;
        }
        configured = std::move(demoPolicy).value();
        configuredSource = QStringLiteral("the demo");
    } else if (!options.configPath.isEmpty()) {
        auto loaded = Gateway::Config::loadPolicyFile(options.configPath, Gateway::Config::processEnvironment());
        if (!loaded) {
            std::fprintf(stderr, "switchyard: invalid configuration: %s\n", qPrintable(loaded.error().toString()));
            return 2;
        }
        configured = std::move(loaded).value();
        configuredSource = options.configPath;
    }

    // The store: request log writer first (its queue outlives the workers), then the
    // policy service, which applies new versions to the running gateway.
    // Retention comes from the policy; the file's section, when given, wins over the
    // stored one (which is what bootstrap will store anyway).
    Storage::LogWriter::Options logOptions;
    logOptions.databasePath = Storage::Database::defaultPath(*dataDir);
    if (configured) {
        logOptions.retentionDays = configured->requestLog.retentionDays;
        logOptions.maxRows = configured->requestLog.maxRows;
    }
    auto logWriter = Storage::LogWriter::start(logOptions);
    if (!logWriter) {
        std::fprintf(stderr, "switchyard: %s\n", qPrintable(logWriter.error()));
        return 1;
    }
    // The store's thread applies new versions; the lock keeps the runtime alive meanwhile.
    std::mutex runningMutex;
    Gateway::GatewayRuntime *running = nullptr;
    Storage::PolicyService::Options storeOptions;
    storeOptions.dataDirectory = *dataDir;
    storeOptions.log = logWriter->get();
    storeOptions.apply = [&running, &runningMutex](const Gateway::Config::Policy &next) {
        const std::lock_guard lock {runningMutex};
        if (running) {
            running->applyPolicy(next);
        }
    };
    auto store = Storage::PolicyService::start(storeOptions);
    if (!store) {
        std::fprintf(stderr, "switchyard: %s\n", qPrintable(store.error()));
        return 1;
    }
    if (configured) {
        // A file may carry "***" (an export without secrets): those keep stored values.
        auto active = store.value()->activePolicy();
        auto resolved = Gateway::Config::resolveRedactedSecrets(*configured, active ? active.value() : Gateway::Config::Policy {});
        if (!resolved) {
            auto error = resolved.error();
            error.source = configuredSource;
            std::fprintf(stderr, "switchyard: invalid configuration: %s\n", qPrintable(error.toString()));
            return 2;
        }
        configured = std::move(resolved).value();
    }
    auto boot = store.value()->bootstrap(configured, configuredSource);
    if (!boot) {
        std::fprintf(stderr, "switchyard: policy store: %s\n", qPrintable(boot.error()));
        return 1;
    }
    Gateway::Config::Policy policy = boot->policy.value_or(Gateway::Config::Policy {});
    if (!applyOverrides(options, policy)) {
        return 2;
    }
    QByteArray adminToken = policy.gateway.adminToken;
    if (adminToken.isEmpty()) {
        auto generated = Storage::loadOrCreateAdminToken(*dataDir);
        if (!generated) {
            std::fprintf(stderr, "switchyard: %s\n", qPrintable(generated.error()));
            return 1;
        }
        adminToken = generated.value();
    }

    // The spend journal: started (and recovered) before the gateway, destroyed after it,
    // so every reservation the workers make has a journal and shutdown commits the last.
    Storage::SpendJournalWriter::Options journalOptions;
    journalOptions.databasePath = Storage::Database::defaultPath(*dataDir);
    journalOptions.flushInterval = std::chrono::milliseconds {policy.governance.journalFlushMs};
    auto journal = Storage::SpendJournalWriter::start(journalOptions);
    if (!journal) {
        std::fprintf(stderr, "switchyard: spend journal: %s\n", qPrintable(journal.error()));
        return 1;
    }

    // The semantic cache's persisted entries: read before serving, written by their own
    // thread, destroyed after the gateway (docs/CACHE.md).
    auto semanticEntries = Storage::SemanticCacheWriter::load(journalOptions.databasePath, QDateTime::currentMSecsSinceEpoch());
    auto semanticWriter = Storage::SemanticCacheWriter::start({journalOptions.databasePath, 10000, {}});
    if (!semanticEntries || !semanticWriter) {
        std::fprintf(stderr, "switchyard: semantic cache: %s\n",
                     qPrintable(!semanticEntries ? semanticEntries.error() : semanticWriter.error()));
        return 1;
    }

    // Checked before anything starts serving; the message never repeats the URL.
    std::optional<Gateway::Shared::RedisEndpoint> redis;
    if (!options.redisUrl.isEmpty()) {
        auto parsed = Gateway::Shared::parseRedisUrl(options.redisUrl, qgetenv("SWITCHYARD_REDIS_PASSWORD"));
        if (!parsed) {
            std::fprintf(stderr, "switchyard: %s\n", qPrintable(parsed.error()));
            return 2;
        }
        redis = std::move(parsed).value();
    }

    Gateway::GatewayRuntime runtime {policy};
    // From here on the process's own log lines show the policy's redaction markers
    // instead of secrets a line might quote (an upstream body, a client's field).
    const Gateway::Safety::LogLineRedaction logLineRedaction {runtime.logRedaction()};
    runtime.setRequestLog(logWriter->get());
    runtime.setSpendJournal(journal->writer.get());
    runtime.seedSpend(journal->recovered);
    runtime.setSemanticStore(semanticWriter.value().get());
    runtime.restoreSemanticCache(semanticEntries.value());
    if (redis) {
        Gateway::Shared::RedisLimitStore::Settings shared;
        shared.endpoint = *redis;
        shared.timeouts.commandMs = options.redisTimeoutMs;
        shared.timeouts.connectMs = options.redisTimeoutMs * 5 / 2;
        // MCP sessions too: a session opened through one gateway is routed by every one.
        runtime.enableSharedMcpSessions({shared.endpoint, shared.timeouts});
        runtime.enableSharedLimits(std::move(shared));
        const Gateway::Shared::RedisStatus status = runtime.sharedLimits()->status();
        if (::isatty(STDOUT_FILENO) != 1) {
            App::logLine(status.up ? "info" : "warn", status.up ? "limits shared through Redis" : "Redis unreachable; limits on local state",
                         {App::LogField("redis", status.endpoint), App::LogField("error", status.lastError)});
        }
    }
    runtime.setAdminService(store->get());
    if (policy.gateway.adminToken.isEmpty()) {
        runtime.setFallbackAdminToken(adminToken);
    }
    const auto port = runtime.start();
    if (!port) {
        std::fprintf(stderr, "switchyard: %s\n", qPrintable(port.error()));
        return 1;
    }
    {
        const std::lock_guard lock {runningMutex};
        running = &runtime;
    }

    const bool terminal = !gui && ::isatty(STDOUT_FILENO) == 1;
    App::warnIfExposedWithoutTls(policy.gateway, terminal);
    if (!terminal) {
        App::logLine("info", "listening",
                     {App::LogField("url", runtime.baseUrl()), App::LogField("threads", runtime.statusSnapshot().threads),
                      App::LogField("routes", static_cast<int>(policy.routes.size())),
                      App::LogField("policy_version", boot->versionId), App::LogField("data_dir", *dataDir)});
        // Logs end up in journals and aggregators, so the token itself is never logged:
        // the line says where the operator finds it (docs/SECURITY.md).
        const QString adminUrl = runtime.baseUrl().chopped(3) + QStringLiteral("/admin/v1/");
        if (policy.gateway.adminToken.isEmpty()) {
            App::logLine("info", "admin API", {App::LogField("url", adminUrl),
                                               App::LogField("token_file", Storage::adminTokenPath(*dataDir))});
        } else {
            App::logLine("info", "admin API", {App::LogField("url", adminUrl), App::LogField("token", "gateway.admin_token")});
        }
        if (policy.routes.empty() && !options.demo) {
            App::logLine("warn", "no routes configured; pass --config FILE or --demo");
        }
    }
    if (demo && !terminal) {
        std::fputs(qPrintable(App::Demo::instructions(runtime.baseUrl())), stdout);
        std::fflush(stdout);
    }

    std::unique_ptr<App::DemoTraffic> demoTraffic;
    if (demo) {
        demoTraffic = std::make_unique<App::DemoTraffic>(runtime.baseUrl().toUtf8(), App::Demo::trafficKeys());
        demoTraffic->start();
    }

    App::ShutdownCoordinator shutdown {runtime, policy.gateway.drainTimeoutMs};
    App::UnixSignals unixSignals;
    const auto requestShutdown = [&shutdown, &demoTraffic] {
        if (demoTraffic) {
            demoTraffic->stop();
        }
        shutdown.requestShutdown();
    };
    QObject::connect(&unixSignals, &App::UnixSignals::terminationRequested, &shutdown,
                     [requestShutdown](int) { requestShutdown(); });
    QObject::connect(&shutdown, &App::ShutdownCoordinator::drained, app.get(), [terminal](int unfinished) {
        if (!terminal) {
            App::logLine(unfinished == 0 ? "info" : "warn", "stopped", {App::LogField("unfinished_requests", unfinished)});
        }
        QCoreApplication::exit(0);
    });

    std::unique_ptr<App::TerminalConsole> terminalConsole;
    std::unique_ptr<App::LogConsole> logConsole;
#ifdef SWITCHYARD_WITH_GUI
    std::unique_ptr<Ui::MainWindow> window;
    std::unique_ptr<Ui::EventLoopProbe> guiProbe;
    const QString guiProbePath = qEnvironmentVariable("SWITCHYARD_GUI_PROBE");
    if (gui) {
        auto *guiApp = static_cast<QApplication *>(app.get());
        guiApp->setQuitOnLastWindowClosed(false);
        QObject::connect(guiApp, &QGuiApplication::lastWindowClosed, &shutdown, requestShutdown);
        // The console reaches the store only through the gateway's admin interface.
        window = std::make_unique<Ui::MainWindow>(runtime, store->get());
        window->setAdminToken(adminToken);
        window->show();
        if (!guiProbePath.isEmpty()) {
            // The GUI responsiveness benchmark (tests/bench/gui-bench.sh): measure the GUI
            // loop's lateness and walk through every view so each one paints under load.
            guiProbe = std::make_unique<Ui::EventLoopProbe>();
            guiProbe->start();
            const int cycleMs = qEnvironmentVariableIntValue("SWITCHYARD_GUI_PROBE_CYCLE_MS");
            auto *cycle = new QTimer(window.get());
            cycle->setInterval(cycleMs > 0 ? cycleMs : 1000);
            QObject::connect(cycle, &QTimer::timeout, window.get(), [&window] { window->showNextView(); });
            cycle->start();
        }
        if (!options.screenshotDir.isEmpty()) {
            // Screenshots: let traffic (the demo's) fill the views, save each one, exit.
            QTimer::singleShot(options.screenshotDelayMs, window.get(), [&window, &options, requestShutdown] {
                constexpr int SettleMs = 1200; // each view's store queries answer within this
                window->captureViews(options.screenshotDir, SettleMs, [&options, requestShutdown](bool ok) {
                    App::logLine(ok ? "info" : "error", "screenshots",
                                 {App::LogField("dir", options.screenshotDir), App::LogField("ok", ok ? 1 : 0)});
                    if (!ok) {
                        QCoreApplication::exit(1);
                        return;
                    }
                    requestShutdown();
                });
            });
        }
    }
#endif
    if (!gui) {
        if (terminal) {
            terminalConsole = std::make_unique<App::TerminalConsole>(runtime);
            terminalConsole->setAdminToken(adminToken);
            QObject::connect(terminalConsole.get(), &App::TerminalConsole::quitRequested, &shutdown, requestShutdown);
            terminalConsole->start();
        } else {
            logConsole = std::make_unique<App::LogConsole>(runtime);
            logConsole->start();
        }
    }

    const int code = QCoreApplication::exec();
#ifdef SWITCHYARD_WITH_GUI
    if (guiProbe && !guiProbe->writeTo(guiProbePath)) {
        App::logLine("error", "gui probe", {App::LogField("file", guiProbePath)});
    }
#endif
    {
        const std::lock_guard lock {runningMutex};
        running = nullptr; // the runtime is about to go
    }
    if (terminalConsole) {
        terminalConsole->stop();
    }
    if (demo && terminal) {
        std::fputs(qPrintable(App::Demo::instructions(runtime.baseUrl())), stdout);
    }
    return code;
}
