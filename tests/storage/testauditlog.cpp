// The audit log's chain on a real SQLite file: appends link up, the triggers refuse
// casual edits, and edits made behind their back (triggers dropped) are found at the
// right row.

#include "auditlog.h"
#include "database.h"

#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using Storage::AuditEntry;
using Storage::AuditLog;
using Storage::AuditRow;
using Storage::Database;

class TestAuditLog final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void emptyLogVerifies();
    void appendsAreChained();
    void encodingIsUnambiguous();
    void updateAndDeleteAreRefused();
    void editedDetailIsDetectedAtThatRow();
    void rewrittenRowWithRecomputedHashIsDetectedAtTheNextRow();
    void deletedMiddleRowIsDetected();
    void deletedFirstRowIsDetected();
    void anchorDetectsTruncationAndRewrite();
    void appendRollsBackWithItsTransaction();
    void pagesNewestFirst();

private:
    // Appends one row in its own write transaction, as the store does with a change.
    qint64 append(const QString &subject, const QByteArray &detail = "{}");
    bool exec(const QString &sql);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Database> m_db;
    std::unique_ptr<AuditLog> m_audit;
};

void TestAuditLog::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    auto db = Database::open(Database::defaultPath(m_dir->path()));
    QVERIFY2(db.hasValue(), db.hasValue() ? "" : qPrintable(db.error()));
    m_db = std::move(db).value();
    m_audit = std::make_unique<AuditLog>(*m_db);
}

void TestAuditLog::cleanup()
{
    m_audit.reset();
    m_db.reset();
    m_dir.reset();
}

qint64 TestAuditLog::append(const QString &subject, const QByteArray &detail)
{
    if (!m_db->beginWrite()) {
        return 0;
    }
    auto id = m_audit->append(AuditEntry {QStringLiteral("tester"), QStringLiteral("policy.apply"), subject, detail});
    if (!id) {
        qWarning() << id.error();
        m_db->rollback();
        return 0;
    }
    return m_db->commit() ? id.value() : 0;
}

bool TestAuditLog::exec(const QString &sql)
{
    QSqlQuery query {m_db->connection()};
    if (!query.exec(sql)) {
        qWarning() << sql << query.lastError().text();
        return false;
    }
    return true;
}

void TestAuditLog::emptyLogVerifies()
{
    const auto result = m_audit->verify();
    QVERIFY(result.hasValue());
    QVERIFY(result->ok);
    QCOMPARE(result->rowsChecked, 0);
    QCOMPARE(result->headId, 0);
    QVERIFY(result->headHash.isEmpty());
}

void TestAuditLog::appendsAreChained()
{
    QCOMPARE(append(QStringLiteral("one")), 1);
    QCOMPARE(append(QStringLiteral("two"), R"({"diff":"ünïcode"})"), 2);
    QCOMPARE(append(QStringLiteral("three")), 3);

    const auto page = m_audit->page(0, 10, 0);
    QVERIFY(page.hasValue());
    QCOMPARE(page->rows.size(), 3);
    const AuditRow &first = page->rows.at(2);
    QCOMPARE(first.prevHash, AuditLog::GENESIS_HASH.toByteArray());
    QCOMPARE(page->rows.at(1).prevHash, first.rowHash);
    QCOMPARE(page->rows.at(0).prevHash, page->rows.at(1).rowHash);
    QCOMPARE(page->rows.at(1).detail, QByteArray(R"({"diff":"ünïcode"})"));
    for (const AuditRow &row : page->rows) {
        QCOMPARE(row.rowHash.size(), 64);
        QCOMPARE(AuditLog::rowHash(row), row.rowHash);
        QCOMPARE(row.actor, QStringLiteral("tester"));
    }

    const auto result = m_audit->verify();
    QVERIFY(result.hasValue());
    QVERIFY2(result->ok, qPrintable(result->reason));
    QCOMPARE(result->rowsChecked, 3);
    QCOMPARE(result->headId, 3);
    QCOMPARE(result->headHash, page->rows.at(0).rowHash);
}

void TestAuditLog::encodingIsUnambiguous()
{
    AuditRow a;
    a.id = 1;
    a.atMs = 5;
    a.actor = QStringLiteral("ab");
    a.action = QStringLiteral("c");
    AuditRow b = a;
    b.actor = QStringLiteral("a");
    b.action = QStringLiteral("bc");
    QVERIFY(AuditLog::rowHash(a) != AuditLog::rowHash(b));
    // Every field counts.
    AuditRow c = a;
    c.atMs = 6;
    QVERIFY(AuditLog::rowHash(a) != AuditLog::rowHash(c));
    AuditRow d = a;
    d.prevHash = "00";
    QVERIFY(AuditLog::rowHash(a) != AuditLog::rowHash(d));
    QCOMPARE(AuditLog::rowHash(a), AuditLog::rowHash(AuditRow(a)));
}

void TestAuditLog::updateAndDeleteAreRefused()
{
    QCOMPARE(append(QStringLiteral("one")), 1);
    QCOMPARE(append(QStringLiteral("two")), 2);
    QSqlQuery query {m_db->connection()};
    QVERIFY(!query.exec(QStringLiteral("UPDATE audit_log SET detail = '{\"x\":1}' WHERE id = 1")));
    QVERIFY2(query.lastError().text().contains(u"append-only"), qPrintable(query.lastError().text()));
    QVERIFY(!query.exec(QStringLiteral("DELETE FROM audit_log WHERE id = 2")));
    QVERIFY(!query.exec(QStringLiteral("DELETE FROM audit_log")));
    // REPLACE deletes without firing DELETE triggers; the next-id rule stops it.
    QVERIFY(!query.exec(QStringLiteral("INSERT OR REPLACE INTO audit_log VALUES (1, 0, 'x', 'x', 'x', '{}', 'x', 'x')")));
    QVERIFY(!query.exec(QStringLiteral("INSERT INTO audit_log VALUES (7, 0, 'x', 'x', 'x', '{}', 'x', 'x')")));
    QVERIFY(!query.exec(QStringLiteral("INSERT INTO audit_log (at_ms, actor, action, subject, detail, prev_hash, row_hash)"
                                       " VALUES (0, 'x', 'x', 'x', '{}', 'x', 'x')")));
    const auto result = m_audit->verify();
    QVERIFY(result.hasValue());
    QVERIFY2(result->ok, qPrintable(result->reason));
    QCOMPARE(result->rowsChecked, 2);
}

void TestAuditLog::editedDetailIsDetectedAtThatRow()
{
    for (int i = 1; i <= 4; ++i) {
        QCOMPARE(append(QStringLiteral("change %1").arg(i), R"({"comment":"honest"})"), i);
    }
    QVERIFY(exec(QStringLiteral("DROP TRIGGER audit_log_no_update")));
    QVERIFY(exec(QStringLiteral("UPDATE audit_log SET detail = '{\"comment\":\"forged\"}' WHERE id = 2")));

    const auto result = m_audit->verify();
    QVERIFY(result.hasValue());
    QVERIFY(!result->ok);
    QCOMPARE(result->firstBadId, 2);
    QVERIFY2(result->reason.contains(u"modified"), qPrintable(result->reason));
    QCOMPARE(result->rowsChecked, 1);
    QCOMPARE(result->headId, 1);
}

void TestAuditLog::rewrittenRowWithRecomputedHashIsDetectedAtTheNextRow()
{
    for (int i = 1; i <= 3; ++i) {
        QCOMPARE(append(QStringLiteral("change %1").arg(i)), i);
    }
    // A careful forger rewrites row 2 and gives it a correct hash of the new contents.
    auto page = m_audit->page(0, 10, 0);
    QVERIFY(page.hasValue());
    AuditRow forged = page->rows.at(1);
    QCOMPARE(forged.id, 2);
    forged.actor = QStringLiteral("someone-else");
    forged.rowHash = AuditLog::rowHash(forged);
    QVERIFY(exec(QStringLiteral("DROP TRIGGER audit_log_no_update")));
    QVERIFY(exec(QStringLiteral("UPDATE audit_log SET actor = 'someone-else', row_hash = '%1' WHERE id = 2")
                     .arg(QString::fromLatin1(forged.rowHash))));

    const auto result = m_audit->verify();
    QVERIFY(result.hasValue());
    QVERIFY(!result->ok);
    QCOMPARE(result->firstBadId, 3);
    QVERIFY2(result->reason.contains(u"does not follow row 2"), qPrintable(result->reason));
}

void TestAuditLog::deletedMiddleRowIsDetected()
{
    for (int i = 1; i <= 4; ++i) {
        QCOMPARE(append(QStringLiteral("change %1").arg(i)), i);
    }
    QVERIFY(exec(QStringLiteral("DROP TRIGGER audit_log_no_delete")));
    QVERIFY(exec(QStringLiteral("DELETE FROM audit_log WHERE id = 2")));

    const auto result = m_audit->verify();
    QVERIFY(result.hasValue());
    QVERIFY(!result->ok);
    QCOMPARE(result->firstBadId, 3);
    QVERIFY2(result->reason.contains(u"missing"), qPrintable(result->reason));
    QCOMPARE(result->rowsChecked, 1);
}

void TestAuditLog::deletedFirstRowIsDetected()
{
    for (int i = 1; i <= 2; ++i) {
        QCOMPARE(append(QStringLiteral("change %1").arg(i)), i);
    }
    QVERIFY(exec(QStringLiteral("DROP TRIGGER audit_log_no_delete")));
    QVERIFY(exec(QStringLiteral("DELETE FROM audit_log WHERE id = 1")));
    const auto result = m_audit->verify();
    QVERIFY(result.hasValue());
    QVERIFY(!result->ok);
    QCOMPARE(result->firstBadId, 2);
}

void TestAuditLog::anchorDetectsTruncationAndRewrite()
{
    for (int i = 1; i <= 3; ++i) {
        QCOMPARE(append(QStringLiteral("change %1").arg(i)), i);
    }
    const auto before = m_audit->verify();
    QVERIFY(before.hasValue() && before->ok);
    const QByteArray anchor = before->headHash;
    // Older anchors stay valid as the log grows; case does not matter.
    QCOMPARE(append(QStringLiteral("change 4")), 4);
    const auto grown = m_audit->verify(anchor.toUpper());
    QVERIFY(grown.hasValue());
    QVERIFY2(grown->ok, qPrintable(grown->reason));

    // Cutting the tail leaves a chain that is internally consistent ...
    QVERIFY(exec(QStringLiteral("DROP TRIGGER audit_log_no_delete")));
    QVERIFY(exec(QStringLiteral("DELETE FROM audit_log WHERE id >= 3")));
    const auto cut = m_audit->verify();
    QVERIFY(cut.hasValue());
    QVERIFY(cut->ok);
    QCOMPARE(cut->rowsChecked, 2);
    // ... which only the anchor exposes.
    const auto anchored = m_audit->verify(anchor);
    QVERIFY(anchored.hasValue());
    QVERIFY(!anchored->ok);
    QCOMPARE(anchored->firstBadId, 0);
    QVERIFY2(anchored->reason.contains(u"anchor"), qPrintable(anchored->reason));

    // A whole new chain written from scratch: consistent, but not the anchored one.
    QVERIFY(exec(QStringLiteral("DELETE FROM audit_log")));
    for (int i = 1; i <= 3; ++i) {
        QCOMPARE(append(QStringLiteral("rewritten %1").arg(i)), i);
    }
    QVERIFY(m_audit->verify()->ok);
    QVERIFY(!m_audit->verify(anchor)->ok);
}

void TestAuditLog::appendRollsBackWithItsTransaction()
{
    QCOMPARE(append(QStringLiteral("kept")), 1);
    QVERIFY(m_db->beginWrite());
    QVERIFY(m_audit->append(AuditEntry {QStringLiteral("tester"), QStringLiteral("x"), QStringLiteral("dropped"), "{}"}));
    m_db->rollback();
    QCOMPARE(append(QStringLiteral("next")), 2);
    const auto result = m_audit->verify();
    QVERIFY(result.hasValue());
    QVERIFY2(result->ok, qPrintable(result->reason));
    QCOMPARE(result->rowsChecked, 2);
}

void TestAuditLog::pagesNewestFirst()
{
    for (int i = 1; i <= 5; ++i) {
        QCOMPARE(append(QStringLiteral("change %1").arg(i)), i);
    }
    auto first = m_audit->page(0, 2, 0);
    QVERIFY(first.hasValue());
    QCOMPARE(first->rows.size(), 2);
    QCOMPARE(first->rows.at(0).id, 5);
    QCOMPARE(first->rows.at(1).id, 4);
    QCOMPARE(first->nextCursor, 4);
    auto second = m_audit->page(0, 2, first->nextCursor);
    QVERIFY(second.hasValue());
    QCOMPARE(second->rows.at(0).id, 3);
    QCOMPARE(second->nextCursor, 2);
    auto last = m_audit->page(0, 2, second->nextCursor);
    QVERIFY(last.hasValue());
    QCOMPARE(last->rows.size(), 1);
    QCOMPARE(last->rows.at(0).id, 1);
    QCOMPARE(last->nextCursor, 0);

    // `since` filters on at_ms: every row was written before the newest row's time + 1.
    const qint64 newest = first->rows.at(0).atMs;
    QCOMPARE(m_audit->page(newest + 1, 10, 0)->rows.size(), 0);
    QVERIFY(m_audit->page(newest, 10, 0)->rows.size() >= 1);
}

QTEST_GUILESS_MAIN(TestAuditLog)
#include "testauditlog.moc"
