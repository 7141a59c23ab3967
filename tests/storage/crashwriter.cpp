// Helper for testcrashsafety: writes to a store as fast as it can until it is killed.
// Usage: storage_crash_writer <dataDir> <policy document>
// Prints "ready" once the policy version is active, then "committed <rows>" after every
// batch the log writer has committed.

#include "database.h"
#include "logwriter.h"
#include "policyversionstore.h"

#include <QCoreApplication>
#include <QDateTime>

#include <cstdio>

int main(int argc, char *argv[])
{
    QCoreApplication app {argc, argv};
    const QStringList arguments = app.arguments();
    if (arguments.size() != 3) {
        std::fprintf(stderr, "usage: storage_crash_writer <dataDir> <policy document>\n");
        return 2;
    }
    const QString path = Storage::Database::defaultPath(arguments.at(1));
    const QByteArray document = arguments.at(2).toUtf8();

    auto db = Storage::Database::open(path);
    if (!db) {
        std::fprintf(stderr, "%s\n", qPrintable(db.error()));
        return 1;
    }
    Storage::PolicyVersionStore store {**db};
    auto id = store.addAndActivate(document, "hash", QStringLiteral("crash-writer"), QStringLiteral("crash test"));
    if (!id) {
        std::fprintf(stderr, "%s\n", qPrintable(id.error()));
        return 1;
    }

    Storage::LogWriter::Options options;
    options.databasePath = path;
    auto writer = Storage::LogWriter::start(options);
    if (!writer) {
        std::fprintf(stderr, "%s\n", qPrintable(writer.error()));
        return 1;
    }
    std::printf("ready\n");
    std::fflush(stdout);

    Gateway::RequestLogEntry entry;
    entry.requestId = "crash";
    entry.virtualKey = QStringLiteral("key");
    entry.route = "chat";
    entry.backend = "p/m";
    entry.endpoint = "/v1/chat/completions";
    entry.status = 200;
    for (qint64 n = 0;; ++n) {
        // Bursts keep the writer inside a transaction most of the time; flushing after
        // each burst makes the reported count a lower bound of what is committed.
        for (int i = 0; i < 2000; ++i) {
            entry.finishedAtMs = QDateTime::currentMSecsSinceEpoch();
            (*writer)->record(Gateway::RequestLogEntry {entry});
        }
        (*writer)->flush();
        std::printf("committed %llu\n", static_cast<unsigned long long>((*writer)->writtenRows()));
        std::fflush(stdout);
    }
}
