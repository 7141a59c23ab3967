#pragma once

#include "util/expected.h"

#include <QByteArray>
#include <QLatin1String>
#include <QList>
#include <QString>

namespace Storage {

class Database;

// The kinds of admin change the audit log records (the `action` column).
namespace AuditAction {
inline constexpr QLatin1String POLICY_APPLY {"policy.apply"};         // PUT /admin/v1/policy
inline constexpr QLatin1String POLICY_IMPORT {"policy.import"};       // switchyard import / import-litellm
inline constexpr QLatin1String POLICY_BOOTSTRAP {"policy.bootstrap"}; // --config stored at start-up
inline constexpr QLatin1String POLICY_ROLLBACK {"policy.rollback"};   // POST /admin/v1/versions/{id}/rollback
inline constexpr QLatin1String KEY_CREATE {"key.create"};             // POST /admin/v1/keys
inline constexpr QLatin1String KEY_REVOKE {"key.revoke"};             // DELETE /admin/v1/keys/{name}
} // namespace AuditAction

// What a caller appends: who did what to what. `detail` is UTF-8 JSON (for policy
// changes it carries the redacted unified diff); it must never hold a secret.
struct AuditEntry {
    QString actor;
    QString action;
    QString subject;
    QByteArray detail;
};

// One stored row. Hashes are lowercase hex SHA-256.
struct AuditRow {
    qint64 id = 0;
    qint64 atMs = 0; // Unix epoch, milliseconds
    QString actor;
    QString action;
    QString subject;
    QByteArray detail;
    QByteArray prevHash;
    QByteArray rowHash;
};

struct AuditPage {
    QList<AuditRow> rows; // newest first
    qint64 nextCursor = 0; // pass as `cursor` for the next page; 0 = no more rows
};

struct AuditVerification {
    bool ok = true;
    qint64 rowsChecked = 0; // rows read before the first failure (all of them when ok)
    qint64 headId = 0;      // the last row that checked out; 0 for an empty log
    QByteArray headHash;    // its row_hash: the anchor to record elsewhere
    qint64 firstBadId = 0;  // the row where the chain breaks; 0 when ok or when only the anchor is missing
    QString reason;         // why it failed; empty when ok
};

// The append-only, hash-chained audit log (table audit_log, schema version 6).
//
// Each row stores prev_hash (the previous row's row_hash; GENESIS_HASH for the first
// row) and row_hash = SHA-256 over a length-prefixed encoding of (id, at_ms, actor,
// action, subject, detail, prev_hash), see rowHash(). Changing any field of a row, or
// deleting, inserting or reordering rows, breaks the chain at that row or the next one.
//
// Threat model, honestly: SQL triggers refuse UPDATE and DELETE and force ids to grow
// by one, but they only stop accidents (a stray UPDATE, a buggy tool): anyone who can
// write the file can drop them. The chain is what detects deliberate edits. An attacker
// who can rewrite the whole file can also recompute the whole chain, or cut its tail;
// recording the head hash (an "anchor") somewhere they cannot write, and passing it to
// verify() later, detects that too.
//
// Runs on the caller's Database and thread (see Database).
class AuditLog final {
public:
    static constexpr int MAX_PAGE = 1000;
    // prev_hash of the first row.
    static constexpr QByteArrayView GENESIS_HASH = "0000000000000000000000000000000000000000000000000000000000000000";

    explicit AuditLog(Database &db);

    // Appends one row and returns its id. Must run inside the caller's write transaction
    // (Database::beginWrite), the same one as the change it records: then the change and
    // its audit row commit together or not at all, and the write lock keeps two
    // connections (the gateway and `switchyard import`) from chaining onto the same row.
    Gateway::Expected<qint64, QString> append(const AuditEntry &entry);

    // Rows with at_ms >= sinceMs and (cursor > 0) id < cursor, newest first, at most
    // limit (clamped to 1..MAX_PAGE).
    Gateway::Expected<AuditPage, QString> page(qint64 sinceMs, int limit, qint64 cursor) const;

    // Walks the whole chain from the first row. When `anchor` is given (a head hash
    // recorded earlier), it must be the row_hash of some row still in the chain.
    // Fails (the Expected) only when the table cannot be read.
    Gateway::Expected<AuditVerification, QString> verify(const QByteArray &anchor = {}) const;

    // SHA-256 (hex) of the canonical encoding of a row's fields except row_hash.
    static QByteArray rowHash(const AuditRow &row);

private:
    Database &m_db;
};

} // namespace Storage
