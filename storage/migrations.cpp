#include "migrations.h"

#include <QSqlError>
#include <QSqlQuery>

namespace Storage {

namespace {

std::vector<MigrationStep> buildSteps()
{
    std::vector<MigrationStep> steps;

    steps.push_back(MigrationStep {1, {
        QStringLiteral("CREATE TABLE policy_versions ("
                       " id INTEGER PRIMARY KEY,"
                       " created_at_ms INTEGER NOT NULL,"
                       " author TEXT NOT NULL,"
                       " comment TEXT NOT NULL,"
                       " content_hash TEXT NOT NULL,"
                       " document BLOB NOT NULL)"),
        // A singleton row: the CHECK makes a second "active" pointer impossible.
        QStringLiteral("CREATE TABLE active_policy ("
                       " id INTEGER PRIMARY KEY CHECK (id = 1),"
                       " version_id INTEGER NOT NULL REFERENCES policy_versions(id))"),
        QStringLiteral("CREATE TABLE secrets ("
                       " name TEXT PRIMARY KEY,"
                       " sealed BLOB NOT NULL,"
                       " updated_at_ms INTEGER NOT NULL)"),
    }});

    steps.push_back(MigrationStep {2, {
        QStringLiteral("CREATE TABLE request_log ("
                       " id INTEGER PRIMARY KEY,"
                       " finished_at_ms INTEGER NOT NULL,"
                       " request_id TEXT NOT NULL,"
                       " virtual_key TEXT NOT NULL,"
                       " route TEXT NOT NULL,"
                       " backend TEXT NOT NULL,"
                       " endpoint TEXT NOT NULL,"
                       " status INTEGER NOT NULL,"
                       " error_class TEXT NOT NULL,"
                       " latency_ms REAL NOT NULL,"
                       " ttft_ms REAL NOT NULL,"
                       " tokens_in INTEGER NOT NULL,"
                       " tokens_out INTEGER NOT NULL,"
                       " cost_usd REAL NOT NULL,"
                       " attempts INTEGER NOT NULL,"
                       " stream INTEGER NOT NULL)"),
        // Retention deletes by age; time-range queries filter by it.
        QStringLiteral("CREATE INDEX request_log_finished_at ON request_log (finished_at_ms)"),
        // Per-route history in the console and the admin API.
        QStringLiteral("CREATE INDEX request_log_route_finished_at ON request_log (route, finished_at_ms)"),
        QStringLiteral("CREATE TABLE events ("
                       " id INTEGER PRIMARY KEY,"
                       " at_ms INTEGER NOT NULL,"
                       " kind TEXT NOT NULL,"
                       " subject TEXT NOT NULL,"
                       " detail TEXT NOT NULL)"),
        QStringLiteral("CREATE INDEX events_kind_at ON events (kind, at_ms)"),
    }});

    // The routing engine explains its decisions; the explanation is kept with the row.
    steps.push_back(MigrationStep {3, {
        QStringLiteral("ALTER TABLE request_log ADD COLUMN route_reason TEXT NOT NULL DEFAULT ''"),
    }});

    // Request-log ids order by time (RequestLogIds), which makes the finished_at_ms index
    // redundant; per-route history was (route, id) until version 5. Existing rows are re-keyed into the
    // new scheme: old ids are consecutive, so their low 16 bits keep rows of one
    // millisecond apart, and the new ids (> 2^40) never meet an old one.
    steps.push_back(MigrationStep {4, {
        QStringLiteral("DROP INDEX request_log_finished_at"),
        QStringLiteral("DROP INDEX request_log_route_finished_at"),
        QStringLiteral("UPDATE request_log SET id = (max(finished_at_ms, 0) << 16) + (id & 65535)"),
        QStringLiteral("CREATE INDEX request_log_route ON request_log (route)"),
    }});

    // The per-route index was a quarter of the log writer's work per row (a text-keyed
    // B-tree seek and insert for every request) for one admin filter. Filtering by route
    // now scans the requested time range by id, as the key and status filters always did.
    steps.push_back(MigrationStep {5, {
        QStringLiteral("DROP INDEX request_log_route"),
    }});

    // The append-only, hash-chained audit log of admin changes (see AuditLog). The
    // triggers guard against accidents only: UPDATE and DELETE abort, and an INSERT must
    // take the next id, which also stops INSERT OR REPLACE from overwriting a row (its
    // implicit delete fires no DELETE trigger). Whoever can write the file can drop
    // them; the hash chain is what detects a deliberate edit.
    steps.push_back(MigrationStep {6, {
        QStringLiteral("CREATE TABLE audit_log ("
                       " id INTEGER PRIMARY KEY,"
                       " at_ms INTEGER NOT NULL,"
                       " actor TEXT NOT NULL,"
                       " action TEXT NOT NULL,"
                       " subject TEXT NOT NULL,"
                       " detail TEXT NOT NULL,"
                       " prev_hash TEXT NOT NULL,"
                       " row_hash TEXT NOT NULL)"),
        QStringLiteral("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
                       " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"),
        QStringLiteral("CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
                       " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"),
        QStringLiteral("CREATE TRIGGER audit_log_next_id BEFORE INSERT ON audit_log"
                       " WHEN NEW.id IS NULL OR NEW.id <> (SELECT coalesce(max(id), 0) + 1 FROM audit_log)"
                       " BEGIN SELECT RAISE(ABORT, 'audit_log rows are appended with the next id'); END"),
    }});

    // Governance: the spend journal (SpendJournalWriter). A reservation row exists from
    // reserve() until its settlement is committed, so rows left at start-up belong to
    // requests a crash interrupted; the ledger holds one row per settled request, what
    // budgets are rebuilt from and GET /admin/v1/spend sums.
    steps.push_back(MigrationStep {7, {
        QStringLiteral("CREATE TABLE spend_reservations ("
                       " id INTEGER PRIMARY KEY,"
                       " at_ms INTEGER NOT NULL,"
                       " virtual_key TEXT NOT NULL,"
                       " team TEXT NOT NULL,"
                       " route TEXT NOT NULL,"
                       " tokens INTEGER NOT NULL,"
                       " cost_nanos INTEGER NOT NULL)"),
        QStringLiteral("CREATE TABLE spend_ledger ("
                       " id INTEGER PRIMARY KEY,"
                       " reservation_id INTEGER NOT NULL,"
                       " at_ms INTEGER NOT NULL,"
                       " virtual_key TEXT NOT NULL,"
                       " team TEXT NOT NULL,"
                       " route TEXT NOT NULL,"
                       " backend TEXT NOT NULL,"
                       " tokens_in INTEGER NOT NULL,"
                       " cached_tokens_in INTEGER NOT NULL,"
                       " tokens_out INTEGER NOT NULL,"
                       " cost_nanos INTEGER NOT NULL,"
                       " estimated INTEGER NOT NULL)"),
        // Time ranges (the admin API, start-up totals of the current day and month).
        QStringLiteral("CREATE INDEX spend_ledger_at ON spend_ledger (at_ms)"),
    }});

    // Response caching (docs/CACHE.md): the request log says whether a request was a
    // cache hit, and the semantic cache's index is kept so a restart keeps it
    // (SemanticCacheWriter). Rows past expires_at_ms are deleted as the writer goes.
    steps.push_back(MigrationStep {8, {
        QStringLiteral("ALTER TABLE request_log ADD COLUMN cache TEXT NOT NULL DEFAULT ''"),
        QStringLiteral("CREATE TABLE semantic_cache ("
                       " id INTEGER PRIMARY KEY,"
                       " route TEXT NOT NULL,"
                       " partition BLOB NOT NULL,"
                       " embedding BLOB NOT NULL,"
                       " stream INTEGER NOT NULL,"
                       " content_type TEXT NOT NULL,"
                       " body BLOB NOT NULL,"
                       " tokens_in INTEGER NOT NULL,"
                       " tokens_out INTEGER NOT NULL,"
                       " cost_nanos INTEGER NOT NULL,"
                       " stored_at_ms INTEGER NOT NULL,"
                       " expires_at_ms INTEGER NOT NULL)"),
        QStringLiteral("CREATE INDEX semantic_cache_expires ON semantic_cache (expires_at_ms)"),
    }});

    return steps;
}

QString errorText(const QSqlQuery &query)
{
    return query.lastError().text();
}

bool execute(QSqlDatabase &db, const QString &sql, QString *error)
{
    QSqlQuery query {db};
    if (!query.exec(sql)) {
        *error = QStringLiteral("%1: %2").arg(sql, errorText(query));
        return false;
    }
    return true;
}

} // namespace

const std::vector<MigrationStep> &migrationSteps()
{
    static const std::vector<MigrationStep> steps = buildSteps();
    return steps;
}

int currentSchemaVersion()
{
    return migrationSteps().back().version;
}

Gateway::Expected<int, QString> schemaVersion(QSqlDatabase &db)
{
    QSqlQuery query {db};
    if (!query.exec(QStringLiteral("PRAGMA user_version")) || !query.next()) {
        return Gateway::Unexpected {QStringLiteral("cannot read the schema version: %1").arg(errorText(query))};
    }
    return query.value(0).toInt();
}

Gateway::Expected<int, QString> migrate(QSqlDatabase &db)
{
    const int target = currentSchemaVersion();
    for (const MigrationStep &step : migrationSteps()) {
        // A cheap check outside a transaction keeps an up-to-date database from taking
        // the write lock on every open.
        auto before = schemaVersion(db);
        if (!before) {
            return before;
        }
        if (*before > target) {
            return Gateway::Unexpected {QStringLiteral(
                "the database has schema version %1, newer than this build understands (%2); "
                "it was written by a later Switchyard release: run that release or restore a backup")
                                            .arg(*before).arg(target)};
        }
        if (*before >= step.version) {
            continue;
        }

        QString error;
        if (!execute(db, QStringLiteral("BEGIN IMMEDIATE"), &error)) {
            return Gateway::Unexpected {QStringLiteral("migration to version %1 failed: %2").arg(step.version).arg(error)};
        }
        auto inside = schemaVersion(db);
        if (!inside) {
            execute(db, QStringLiteral("ROLLBACK"), &error);
            return inside;
        }
        if (*inside >= step.version) {
            // Another connection applied this step between the check and the lock.
            if (!execute(db, QStringLiteral("COMMIT"), &error)) {
                return Gateway::Unexpected {error};
            }
            continue;
        }
        if (*inside != step.version - 1) {
            execute(db, QStringLiteral("ROLLBACK"), &error);
            return Gateway::Unexpected {QStringLiteral("the database has schema version %1; no migration step leads from it to %2")
                                            .arg(*inside).arg(step.version)};
        }

        bool ok = true;
        for (const QString &statement : step.statements) {
            if (!execute(db, statement, &error)) {
                ok = false;
                break;
            }
        }
        // user_version lives in the database header, which is part of the transaction.
        if (ok) {
            ok = execute(db, QStringLiteral("PRAGMA user_version = %1").arg(step.version), &error);
        }
        if (ok) {
            ok = execute(db, QStringLiteral("COMMIT"), &error);
        }
        if (!ok) {
            QString ignored;
            execute(db, QStringLiteral("ROLLBACK"), &ignored);
            return Gateway::Unexpected {QStringLiteral("migration to version %1 failed: %2").arg(step.version).arg(error)};
        }
    }
    return schemaVersion(db);
}

} // namespace Storage
