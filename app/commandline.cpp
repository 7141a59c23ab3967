#include "commandline.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace App {

bool wantsNoGui(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        const char *arg = argv[i];
        if (std::strcmp(arg, "--headless") == 0 || std::strcmp(arg, "--help") == 0 || std::strcmp(arg, "-h") == 0 ||
            std::strcmp(arg, "--version") == 0 || std::strcmp(arg, "-v") == 0 || std::strcmp(arg, "--help-all") == 0 ||
            std::strcmp(arg, "export") == 0 || std::strcmp(arg, "import") == 0 || std::strcmp(arg, "import-litellm") == 0 ||
            std::strcmp(arg, "audit") == 0) {
            return true;
        }
    }
    return false;
}

CommandLine parseCommandLine(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Switchyard: an AI-native load balancer for LLM traffic with an operator console.\n"
                       "Point OpenAI or Anthropic SDKs at the printed base URL."));
    const QCommandLineOption help = parser.addHelpOption();
    const QCommandLineOption version = parser.addVersionOption();
    const QCommandLineOption headless {QStringLiteral("headless"),
                                       QStringLiteral("Run without a window: a live terminal view on a TTY, "
                                                      "structured log lines otherwise.")};
    const QCommandLineOption demo {QStringLiteral("demo"),
                                   QStringLiteral("Start simulated GPU servers and a cloud provider in-process "
                                                  "and route to them.")};
    const QCommandLineOption config {QStringLiteral("config"), QStringLiteral("Policy file (YAML) to load."),
                                     QStringLiteral("FILE")};
    const QCommandLineOption dataDir {QStringLiteral("data-dir"),
                                      QStringLiteral("Directory for Switchyard's data (default: the XDG data location)."),
                                      QStringLiteral("DIR")};
    const QCommandLineOption listen {QStringLiteral("listen"),
                                     QStringLiteral("Address to serve on, overriding gateway.listen (default 127.0.0.1:8420)."),
                                     QStringLiteral("HOST:PORT")};
    const QCommandLineOption threads {QStringLiteral("threads"),
                                      QStringLiteral("Data-plane worker threads, overriding gateway.threads (0 = cores)."),
                                      QStringLiteral("N")};
    const QCommandLineOption redis {
        QStringLiteral("redis"),
        QStringLiteral("Share rate limits, budgets and reservations with every gateway on this Redis: "
                       "redis://[:password@]host[:port][/db] (password also from SWITCHYARD_REDIS_PASSWORD). "
                       "Default: limits in this process."),
        QStringLiteral("URL")};
    const QCommandLineOption redisTimeout {
        QStringLiteral("redis-timeout-ms"),
        QStringLiteral("Longest a request waits on Redis per command (default 20); connecting gets 2.5x this."),
        QStringLiteral("MS")};
    const QCommandLineOption out {QStringLiteral("out"),
                                  QStringLiteral("export: write the policy here instead of to standard output; "
                                                 "import-litellm: write the converted policy here instead of importing it."),
                                  QStringLiteral("FILE")};
    const QCommandLineOption includeSecrets {QStringLiteral("include-secrets"),
                                             QStringLiteral("export: include provider keys and the admin token in plain text.")};
    const QCommandLineOption anchor {QStringLiteral("anchor"),
                                     QStringLiteral("audit verify: a head hash recorded earlier; it must still be in the chain."),
                                     QStringLiteral("HASH")};
    const QCommandLineOption limit {QStringLiteral("limit"),
                                    QStringLiteral("audit list: how many rows, newest first (default 20, at most 1000)."),
                                    QStringLiteral("N")};
    QCommandLineOption screenshotDir {QStringLiteral("screenshot-dir"),
                                      QStringLiteral("Save a PNG of each console view here after a while, then exit."),
                                      QStringLiteral("DIR")};
    screenshotDir.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption screenshotDelay {QStringLiteral("screenshot-delay-ms"),
                                        QStringLiteral("How long to run before --screenshot-dir captures."),
                                        QStringLiteral("MS")};
    screenshotDelay.setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOptions(
        {headless, demo, config, dataDir, listen, threads, redis, redisTimeout, out, includeSecrets, anchor, limit,
         screenshotDir, screenshotDelay});
    parser.addPositionalArgument(QStringLiteral("command"),
                                 QStringLiteral("Optional: export, import FILE, import-litellm FILE, audit verify or "
                                                "audit list (work on the store in the data directory and exit)."),
                                 QStringLiteral("[command]"));

    if (!parser.parse(arguments)) {
        std::fprintf(stderr, "switchyard: %s\nTry 'switchyard --help'.\n", qPrintable(parser.errorText()));
        std::exit(2);
    }
    if (parser.isSet(help)) {
        parser.showHelp(0);
    }
    if (parser.isSet(version)) {
        parser.showVersion();
    }
    CommandLine options;
    const QStringList positional = parser.positionalArguments();
    if (!positional.isEmpty()) {
        const QString &command = positional.constFirst();
        const int expected = command == u"export" ? 1 : 2;
        QString usage = command + QStringLiteral(" FILE");
        if (command == u"export") {
            options.command = CommandLine::Command::Export;
            usage = QStringLiteral("export [--out FILE] [--include-secrets]");
        } else if (command == u"import") {
            options.command = CommandLine::Command::Import;
        } else if (command == u"import-litellm") {
            options.command = CommandLine::Command::ImportLiteLlm;
        } else if (command == u"audit") {
            const QString action = positional.size() > 1 ? positional.at(1) : QString();
            usage = QStringLiteral("audit verify [--anchor HASH] | audit list [--limit N]");
            if (action == u"verify") {
                options.command = CommandLine::Command::AuditVerify;
            } else if (action == u"list") {
                options.command = CommandLine::Command::AuditList;
            } else {
                std::fprintf(stderr, "switchyard: usage: switchyard %s\n", qPrintable(usage));
                std::exit(2);
            }
        } else {
            std::fprintf(stderr, "switchyard: unknown command '%s' (commands: export, import, import-litellm, audit)\n",
                         qPrintable(command));
            std::exit(2);
        }
        if (positional.size() != expected) {
            std::fprintf(stderr, "switchyard: usage: switchyard %s\n", qPrintable(usage));
            std::exit(2);
        }
        if (expected == 2 && command != u"audit") {
            options.commandFile = positional.at(1);
        }
    }
    options.anchor = parser.value(anchor);
    if (!options.anchor.isEmpty() &&
        (options.anchor.size() != 64 ||
         !std::all_of(options.anchor.cbegin(), options.anchor.cend(), [](QChar c) {
             return (c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f') || (c >= u'A' && c <= u'F');
         }))) {
        std::fprintf(stderr, "switchyard: --anchor must be a SHA-256 hash in hex (64 characters), as printed by audit verify\n");
        std::exit(2);
    }
    if (parser.isSet(limit)) {
        bool ok = false;
        options.limit = parser.value(limit).toInt(&ok);
        if (!ok || options.limit < 1 || options.limit > 1000) {
            std::fprintf(stderr, "switchyard: --limit must be a number from 1 to 1000\n");
            std::exit(2);
        }
    }
    options.outPath = parser.value(out);
    options.includeSecrets = parser.isSet(includeSecrets);
    options.headless = parser.isSet(headless);
    options.demo = parser.isSet(demo);
    options.configPath = parser.value(config);
    options.dataDir = parser.value(dataDir);
    options.listen = parser.value(listen);
    options.redisUrl = parser.value(redis);
    if (parser.isSet(redisTimeout)) {
        bool ok = false;
        options.redisTimeoutMs = parser.value(redisTimeout).toInt(&ok);
        if (!ok || options.redisTimeoutMs < 1 || options.redisTimeoutMs > 10'000) {
            std::fprintf(stderr, "switchyard: --redis-timeout-ms must be a number from 1 to 10000\n");
            std::exit(2);
        }
    }
    options.screenshotDir = parser.value(screenshotDir);
    if (parser.isSet(screenshotDelay)) {
        bool ok = false;
        options.screenshotDelayMs = parser.value(screenshotDelay).toInt(&ok);
        if (!ok || options.screenshotDelayMs < 0) {
            std::fprintf(stderr, "switchyard: --screenshot-delay-ms must be a number of milliseconds\n");
            std::exit(2);
        }
    }
    if (parser.isSet(threads)) {
        bool ok = false;
        options.threads = parser.value(threads).toInt(&ok);
        if (!ok || options.threads < 0 || options.threads > 256) {
            std::fprintf(stderr, "switchyard: --threads must be a number from 0 to 256\n");
            std::exit(2);
        }
    }
    return options;
}

} // namespace App
