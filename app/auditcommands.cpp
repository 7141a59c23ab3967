#include "auditcommands.h"

#include "auditlog.h"
#include "database.h"

#include <QDateTime>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>

namespace App {

namespace {

int fail(const QString &message, int code = 1)
{
    std::fprintf(stderr, "switchyard: %s\n", qPrintable(message));
    return code;
}

int verify(Storage::AuditLog &audit, const QString &anchor)
{
    auto result = audit.verify(anchor.toLatin1());
    if (!result) {
        return fail(result.error());
    }
    if (!result->ok) {
        std::printf("rows checked: %lld\n", result->rowsChecked);
        if (result->firstBadId > 0) {
            return fail(QStringLiteral("audit log broken at row %1: %2").arg(result->firstBadId).arg(result->reason),
                        AUDIT_BROKEN);
        }
        return fail(QStringLiteral("audit log broken: %1").arg(result->reason), AUDIT_BROKEN);
    }
    std::printf("audit log intact: %lld rows checked\n", result->rowsChecked);
    if (result->headId > 0) {
        // Recorded somewhere the store's owner cannot write, it later proves the log was
        // neither cut short nor rewritten (--anchor).
        std::printf("head: row %lld %s\n", result->headId, result->headHash.constData());
    }
    return 0;
}

int list(Storage::AuditLog &audit, int limit)
{
    auto page = audit.page(0, limit, 0);
    if (!page) {
        return fail(page.error());
    }
    for (const auto &row : page->rows) {
        const QString at = QDateTime::fromMSecsSinceEpoch(row.atMs, Qt::UTC).toString(Qt::ISODateWithMs);
        const QString comment = QJsonDocument::fromJson(row.detail).object().value(QStringLiteral("comment")).toString();
        std::printf("%lld  %s  %s  %s  %s%s\n", row.id, qPrintable(at), qPrintable(row.actor), qPrintable(row.action),
                    qPrintable(row.subject), comment.isEmpty() ? "" : qPrintable(QStringLiteral("  (%1)").arg(comment)));
    }
    return 0;
}

} // namespace

int runAuditCommand(const CommandLine &options, const QString &dataDirectory)
{
    // No master key and no store thread: the audit log holds no secrets, and checking it
    // must work even where the keychain is unavailable.
    const QString path = Storage::Database::defaultPath(dataDirectory);
    if (!QFileInfo::exists(path)) {
        // A mistyped --data-dir would otherwise "verify" a brand-new empty log.
        return fail(QStringLiteral("no store at %1").arg(path));
    }
    auto database = Storage::Database::open(path);
    if (!database) {
        return fail(database.error());
    }
    Storage::AuditLog audit {*database.value()};
    if (options.command == CommandLine::Command::AuditList) {
        return list(audit, options.limit);
    }
    return verify(audit, options.anchor);
}

} // namespace App
