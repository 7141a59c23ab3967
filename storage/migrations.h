#pragma once

#include "util/expected.h"

#include <QSqlDatabase>
#include <QStringList>

#include <vector>

namespace Storage {

// One schema step: the statements that take a database from version - 1 to version.
// A step is applied in a single transaction together with the PRAGMA user_version
// update, so a crash mid-migration leaves the previous version intact.
struct MigrationStep {
    int version = 0;
    QStringList statements;
};

// Version 1: policy_versions, active_policy, secrets.
// Version 2: request_log and events (with their indexes).
// Version 3: request_log.route_reason. Version 4: time-ordered request-log ids.
// Version 5: the request log's per-route index dropped (see the step's comment).
// Version 6: audit_log, append-only and hash-chained (see AuditLog).
// Version 7: spend_reservations and spend_ledger (the governance spend journal).
// Version 8: request_log.cache and semantic_cache (response caching).
// Steps are append-only: once released, a step is never edited; a schema change is a
// new step, so every existing database follows the same path to the current version.
const std::vector<MigrationStep> &migrationSteps();

// The highest version the code knows (the last step's version).
int currentSchemaVersion();

// Reads PRAGMA user_version.
Gateway::Expected<int, QString> schemaVersion(QSqlDatabase &db);

// Brings the database to currentSchemaVersion(), one transaction per step. Each step
// starts with BEGIN IMMEDIATE and re-reads the version inside the transaction, so two
// connections opening a fresh file at once cannot both apply a step. A database whose
// version is newer than the code knows is refused (it was written by a later release,
// and writing to it could corrupt data that release relies on). Returns the version
// reached.
Gateway::Expected<int, QString> migrate(QSqlDatabase &db);

} // namespace Storage
