#include "auditjson.h"

#include "auditlog.h"

#include <QJsonDocument>

namespace Storage {

QJsonObject auditRowJson(const AuditRow &row)
{
    // detail is JSON written by the store; a row edited into something else is shown as
    // the text it holds rather than hidden.
    QJsonParseError error {};
    const QJsonDocument detail = QJsonDocument::fromJson(row.detail, &error);
    const QJsonValue detailValue = error.error == QJsonParseError::NoError && detail.isObject()
                                       ? QJsonValue(detail.object())
                                       : QJsonValue(QString::fromUtf8(row.detail));
    return {{QStringLiteral("id"), row.id},
            {QStringLiteral("at_ms"), row.atMs},
            {QStringLiteral("actor"), row.actor},
            {QStringLiteral("action"), row.action},
            {QStringLiteral("subject"), row.subject},
            {QStringLiteral("detail"), detailValue},
            {QStringLiteral("prev_hash"), QString::fromLatin1(row.prevHash)},
            {QStringLiteral("row_hash"), QString::fromLatin1(row.rowHash)}};
}

QJsonObject auditVerificationJson(const AuditVerification &verification)
{
    return {{QStringLiteral("ok"), verification.ok},
            {QStringLiteral("rows_checked"), verification.rowsChecked},
            {QStringLiteral("head_id"), verification.headId > 0 ? QJsonValue(verification.headId) : QJsonValue()},
            {QStringLiteral("head_hash"),
             verification.headHash.isEmpty() ? QJsonValue() : QJsonValue(QString::fromLatin1(verification.headHash))},
            {QStringLiteral("first_bad_id"), verification.firstBadId > 0 ? QJsonValue(verification.firstBadId) : QJsonValue()},
            {QStringLiteral("reason"), verification.ok ? QJsonValue() : QJsonValue(verification.reason)}};
}

} // namespace Storage
