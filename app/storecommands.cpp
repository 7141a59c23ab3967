#include "storecommands.h"

#include "config/litellmimport.h"
#include "config/policyloader.h"
#include "config/policywriter.h"
#include "config/secretmerge.h"
#include "policyservice.h"

#include <QFile>
#include <QFileInfo>

#include <cstdio>
#include <pwd.h>
#include <unistd.h>

namespace App {

namespace {

using Gateway::Config::Policy;

// The version author and audit actor of a command-line change: "cli:<login name>". It
// names the OS account that ran the command; like any actor it is a claim, since whoever
// can write the data directory can write anything into it.
QString cliActor()
{
    const passwd *account = ::getpwuid(::geteuid());
    if (!account || !account->pw_name) {
        return QStringLiteral("cli");
    }
    return QStringLiteral("cli:") + QString::fromLocal8Bit(account->pw_name);
}

int fail(const QString &message, int code = 1)
{
    std::fprintf(stderr, "switchyard: %s\n", qPrintable(message));
    return code;
}

bool writeOutput(const QString &path, const QByteArray &bytes)
{
    if (path.isEmpty() || path == u"-") {
        std::fwrite(bytes.constData(), 1, static_cast<size_t>(bytes.size()), stdout);
        std::fflush(stdout);
        return true;
    }
    QFile file {path};
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        return false;
    }
    // An export with secrets is as sensitive as the key file: owner-only.
    file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    return file.write(bytes) == bytes.size();
}

int exportPolicy(Storage::PolicyService &store, const CommandLine &options)
{
    auto policy = store.activePolicy();
    if (!policy) {
        return fail(policy.error());
    }
    const auto rendering =
        options.includeSecrets ? Gateway::Config::SecretRendering::Included : Gateway::Config::SecretRendering::Redacted;
    if (!writeOutput(options.outPath, Gateway::Config::toYaml(policy.value(), rendering))) {
        return fail(QStringLiteral("cannot write %1").arg(options.outPath));
    }
    return 0;
}

int importPolicy(Storage::PolicyService &store, Policy policy, const QString &source)
{
    // "***" placeholders (a redacted export) keep the secrets already stored.
    auto active = store.activePolicy();
    if (!active) {
        return fail(active.error());
    }
    auto resolved = Gateway::Config::resolveRedactedSecrets(std::move(policy), active.value());
    if (!resolved) {
        auto error = resolved.error();
        error.source = source;
        return fail(QStringLiteral("invalid policy: %1").arg(error.toString()), 2);
    }
    bool created = false;
    auto version = store.importPolicy(resolved.value(), cliActor(),
                                      QStringLiteral("imported from %1").arg(QFileInfo(source).fileName()), created);
    if (!version) {
        return fail(version.error());
    }
    std::printf("%s policy version %lld\n", created ? "imported as" : "unchanged: already the active", version.value());
    return 0;
}

} // namespace

int runStoreCommand(const CommandLine &options, const QString &dataDirectory)
{
    Storage::PolicyService::Options storeOptions;
    storeOptions.dataDirectory = dataDirectory;
    storeOptions.watchIntervalMs = 0;
    auto store = Storage::PolicyService::start(storeOptions);
    if (!store) {
        return fail(store.error());
    }
    switch (options.command) {
    case CommandLine::Command::Export:
        return exportPolicy(*store.value(), options);
    case CommandLine::Command::Import: {
        auto policy = Gateway::Config::loadPolicyFile(options.commandFile, Gateway::Config::processEnvironment());
        if (!policy) {
            return fail(QStringLiteral("invalid policy: %1").arg(policy.error().toString()), 2);
        }
        return importPolicy(*store.value(), std::move(policy).value(), options.commandFile);
    }
    case CommandLine::Command::ImportLiteLlm: {
        QFile file {options.commandFile};
        if (!file.open(QIODevice::ReadOnly)) {
            return fail(QStringLiteral("cannot read %1: %2").arg(options.commandFile, file.errorString()), 2);
        }
        auto converted = Gateway::Config::importLiteLlmConfig(file.readAll(), options.commandFile);
        if (!converted) {
            return fail(QStringLiteral("not a LiteLLM config: %1").arg(converted.error().toString()), 2);
        }
        for (const QString &line : converted->mapped) {
            std::printf("mapped:   %s\n", qPrintable(line));
        }
        for (const QString &line : converted->unmapped) {
            std::printf("unmapped: %s\n", qPrintable(line));
        }
        // The conversion keeps os.environ/VAR as ${VAR}: rendered and read back, the
        // variables are expanded now, and an unset one is named.
        const QByteArray document =
            Gateway::Config::toYaml(converted->policy, Gateway::Config::SecretRendering::Included);
        if (!options.outPath.isEmpty()) {
            if (!writeOutput(options.outPath, document)) {
                return fail(QStringLiteral("cannot write %1").arg(options.outPath));
            }
            std::printf("wrote %s (not imported)\n", qPrintable(options.outPath));
            return 0;
        }
        auto policy = Gateway::Config::parsePolicy(document, options.commandFile, Gateway::Config::processEnvironment());
        if (!policy) {
            return fail(QStringLiteral("converted policy: %1").arg(policy.error().toString()), 2);
        }
        return importPolicy(*store.value(), std::move(policy).value(), options.commandFile);
    }
    case CommandLine::Command::Run:
    case CommandLine::Command::AuditVerify: // runAuditCommand
    case CommandLine::Command::AuditList:
        break;
    }
    return 0;
}

} // namespace App
