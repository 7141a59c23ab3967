#include "commandline.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <cstdio>
#include <cstring>

namespace App {

bool wantsNoGui(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        const char *arg = argv[i];
        if (std::strcmp(arg, "--headless") == 0 || std::strcmp(arg, "--help") == 0 || std::strcmp(arg, "-h") == 0 ||
            std::strcmp(arg, "--version") == 0 || std::strcmp(arg, "-v") == 0 || std::strcmp(arg, "--help-all") == 0) {
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
    parser.addOptions({headless, demo, config, dataDir, listen, threads});

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
    if (!parser.positionalArguments().isEmpty()) {
        std::fprintf(stderr, "switchyard: unexpected argument '%s'\nTry 'switchyard --help'.\n",
                     qPrintable(parser.positionalArguments().constFirst()));
        std::exit(2);
    }
    CommandLine options;
    options.headless = parser.isSet(headless);
    options.demo = parser.isSet(demo);
    options.configPath = parser.value(config);
    options.dataDir = parser.value(dataDir);
    options.listen = parser.value(listen);
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
