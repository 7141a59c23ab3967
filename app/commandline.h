#pragma once

#include <QString>
#include <QStringList>

namespace App {

struct CommandLine {
    // `switchyard` runs the gateway; the subcommands work on the store and exit.
    enum class Command { Run, Export, Import, ImportLiteLlm, AuditVerify, AuditList };
    Command command = Command::Run;
    QString commandFile;     // import / import-litellm FILE
    QString outPath;         // --out FILE (export; import-litellm: write instead of import)
    bool includeSecrets = false;
    QString anchor;          // --anchor HASH (audit verify)
    int limit = 20;          // --limit N (audit list)

    bool headless = false;
    bool demo = false;
    QString configPath;
    QString dataDir;
    QString listen; // HOST:PORT override of gateway.listen
    int threads = -1; // override of gateway.threads; -1 = keep
    QString redisUrl;        // --redis: limits shared through Redis; empty = in process
    int redisTimeoutMs = 20; // --redis-timeout-ms: per command; connecting gets 2.5x
    // Hidden: after screenshotDelayMs of running, save a PNG of each console view here
    // and exit (the README screenshots and their CI job).
    QString screenshotDir;
    int screenshotDelayMs = 10000;
};

// Whether argv asks for a mode that must not create a GUI application (checked before
// any QCoreApplication exists).
bool wantsNoGui(int argc, char **argv);

// Parses the arguments of the running QCoreApplication. Handles --help and --version
// itself (prints and exits 0); prints a message and exits 2 on bad arguments.
CommandLine parseCommandLine(const QStringList &arguments);

} // namespace App
