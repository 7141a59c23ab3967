#pragma once

#include <QJsonObject>

namespace Storage {

struct AuditRow;
struct AuditVerification;

// The admin API's JSON for audit rows and chain checks (see docs/ADMIN_API.md).

// {"id", "at_ms", "actor", "action", "subject", "detail": {...}, "prev_hash", "row_hash"}
QJsonObject auditRowJson(const AuditRow &row);

// {"ok", "rows_checked", "head_id", "head_hash", "first_bad_id", "reason"}; the last two
// are null when the chain is intact.
QJsonObject auditVerificationJson(const AuditVerification &verification);

} // namespace Storage
