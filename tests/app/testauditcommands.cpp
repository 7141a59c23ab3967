// `switchyard audit verify` and `audit list` against a store in a temp directory, run as
// the real executable: exit codes and what they print, before and after tampering.

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

namespace {

const QString BINARY = QStringLiteral(SWITCHYARD_BINARY);
constexpr int AUDIT_BROKEN = 3; // App::AUDIT_BROKEN

struct Result {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

QByteArray policy(const QByteArray &route)
{
    return "providers:\n"
           "  - name: openai\n"
           "    type: openai\n"
           "    base_url: https://api.openai.com/v1\n"
           "    keys: [{name: primary, secret: sk-live-cli-audit-secret-77}]\n"
           "routes:\n"
           "  - model: " + route + "\n"
           "    targets: [{provider: openai, model: gpt-4o-mini}]\n";
}

} // namespace

class TestAuditCommands final : public QObject {
    Q_OBJECT

private slots:
    void init();

    void intactLogExitsZeroWithTheHead();
    void listShowsNewestFirst();
    void editedRowExitsNonZeroNamingIt();
    void anchorMustBeInTheChain();
    void missingStoreAndBadUsageFail();

private:
    Result run(const QStringList &arguments);
    QString dataDir() const { return m_dir->filePath(QStringLiteral("data")); }
    void importTwo();
    // Raw SQL on the store file, the way someone with file access would edit it.
    bool tamper(const QStringList &statements);

    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestAuditCommands::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

Result TestAuditCommands::run(const QStringList &arguments)
{
    QProcess process;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove(QStringLiteral("DISPLAY"));
    environment.remove(QStringLiteral("WAYLAND_DISPLAY"));
    process.setProcessEnvironment(environment);
    process.start(BINARY, arguments + QStringList {QStringLiteral("--data-dir"), dataDir()});
    Result result;
    if (!process.waitForFinished(20000)) {
        process.kill();
        return result;
    }
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    return result;
}

void TestAuditCommands::importTwo()
{
    for (const QByteArray &route : {QByteArray("chat"), QByteArray("chat-2")}) {
        const QString path = m_dir->filePath(QString::fromUtf8(route) + QStringLiteral(".yaml"));
        QFile file {path};
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(policy(route));
        file.close();
        const auto imported = run({QStringLiteral("import"), path});
        QVERIFY2(imported.exitCode == 0, imported.err.constData());
    }
}

bool TestAuditCommands::tamper(const QStringList &statements)
{
    const QString name = QStringLiteral("tamper");
    bool ok = true;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(QDir(dataDir()).filePath(QStringLiteral("switchyard.db")));
        ok = db.open();
        for (const QString &sql : statements) {
            QSqlQuery query {db};
            if (ok && !query.exec(sql)) {
                qWarning() << sql << query.lastError().text();
                ok = false;
            }
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    return ok;
}

void TestAuditCommands::intactLogExitsZeroWithTheHead()
{
    importTwo();
    const auto verified = run({QStringLiteral("audit"), QStringLiteral("verify")});
    QVERIFY2(verified.exitCode == 0, verified.err.constData());
    QVERIFY2(verified.out.contains("audit log intact: 2 rows checked"), verified.out.constData());
    const QList<QByteArray> lines = verified.out.trimmed().split('\n');
    QVERIFY(lines.constLast().startsWith("head: row 2 "));
    QCOMPARE(lines.constLast().split(' ').constLast().size(), 64);
}

void TestAuditCommands::listShowsNewestFirst()
{
    importTwo();
    const auto listed = run({QStringLiteral("audit"), QStringLiteral("list"), QStringLiteral("--limit"), QStringLiteral("1")});
    QVERIFY2(listed.exitCode == 0, listed.err.constData());
    const QList<QByteArray> lines = listed.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 1);
    QVERIFY2(lines.constFirst().startsWith("2  "), listed.out.constData());
    QVERIFY(lines.constFirst().contains("  cli"));
    QVERIFY(lines.constFirst().contains("  policy.import  policy version 2"));
    QVERIFY(lines.constFirst().contains("(imported from chat-2.yaml)"));
    QVERIFY(!listed.out.contains("sk-live-cli-audit-secret-77"));
}

void TestAuditCommands::editedRowExitsNonZeroNamingIt()
{
    importTwo();
    // The trigger stops a plain UPDATE ...
    QVERIFY(!tamper({QStringLiteral("UPDATE audit_log SET actor = 'mallory' WHERE id = 1")}));
    QCOMPARE(run({QStringLiteral("audit"), QStringLiteral("verify")}).exitCode, 0);
    // ... dropping it does not hide the edit.
    QVERIFY(tamper({QStringLiteral("DROP TRIGGER audit_log_no_update"),
                    QStringLiteral("UPDATE audit_log SET detail = '{\"comment\":\"nothing happened\"}' WHERE id = 1")}));
    const auto verified = run({QStringLiteral("audit"), QStringLiteral("verify")});
    QCOMPARE(verified.exitCode, AUDIT_BROKEN);
    QVERIFY2(verified.err.contains("audit log broken at row 1"), verified.err.constData());
    QVERIFY2(verified.err.contains("modified"), verified.err.constData());
    QVERIFY(verified.out.contains("rows checked: 0"));
}

void TestAuditCommands::anchorMustBeInTheChain()
{
    importTwo();
    const auto first = run({QStringLiteral("audit"), QStringLiteral("verify")});
    const QByteArray head = first.out.trimmed().split('\n').constLast().split(' ').constLast();
    QCOMPARE(head.size(), 64);
    const auto anchored = run({QStringLiteral("audit"), QStringLiteral("verify"), QStringLiteral("--anchor"), QString::fromLatin1(head)});
    QVERIFY2(anchored.exitCode == 0, anchored.err.constData());
    // The tail cut off: the rest still chains, only the anchor shows it.
    QVERIFY(tamper({QStringLiteral("DROP TRIGGER audit_log_no_delete"), QStringLiteral("DELETE FROM audit_log WHERE id = 2")}));
    QCOMPARE(run({QStringLiteral("audit"), QStringLiteral("verify")}).exitCode, 0);
    const auto cut = run({QStringLiteral("audit"), QStringLiteral("verify"), QStringLiteral("--anchor"), QString::fromLatin1(head)});
    QCOMPARE(cut.exitCode, AUDIT_BROKEN);
    QVERIFY2(cut.err.contains("anchor"), cut.err.constData());
}

void TestAuditCommands::missingStoreAndBadUsageFail()
{
    const auto missing = run({QStringLiteral("audit"), QStringLiteral("verify")});
    QCOMPARE(missing.exitCode, 1);
    QVERIFY2(missing.err.contains("no store at"), missing.err.constData());
    QCOMPARE(run({QStringLiteral("audit")}).exitCode, 2);
    QCOMPARE(run({QStringLiteral("audit"), QStringLiteral("erase")}).exitCode, 2);
    QCOMPARE(run({QStringLiteral("audit"), QStringLiteral("list"), QStringLiteral("--limit"), QStringLiteral("0")}).exitCode, 2);
    QCOMPARE(run({QStringLiteral("audit"), QStringLiteral("verify"), QStringLiteral("--anchor"), QStringLiteral("abc")}).exitCode,
             2);
}

QTEST_GUILESS_MAIN(TestAuditCommands)
#include "testauditcommands.moc"
