// The Debian package as an operator gets it: built by CPack (the packaging.build_deb
// fixture), unpacked with `dpkg -x` into a temporary root, never installed. Checks its
// control fields, that every file the package promises is there and points at the
// others (desktop entry -> icon, systemd unit -> binary and policy), that the man page
// and docs/CONFIG.md document every option `--help` lists, then runs the unpacked binary: `--version`, the
// shipped /etc policy loads, and a headless gateway answers a real request.
#include "switchyardprocess.h"
#include "testhttpclient.h"

#include "sim/simulatedupstream.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

using Gateway::Sim::Flavor;
using Gateway::Sim::SimulatedUpstream;
using TestSupport::SwitchyardProcess;
using TestSupport::TestHttpClient;

namespace {

const QString PACKAGE_DIR = QStringLiteral(SWITCHYARD_PACKAGE_DIR);
const QString VERSION = QStringLiteral(SWITCHYARD_VERSION);

struct CommandResult {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

CommandResult run(const QString &program, const QStringList &arguments)
{
    QProcess process;
    process.start(program, arguments);
    CommandResult result;
    if (!process.waitForStarted(10000) || !process.waitForFinished(120000)) {
        result.err = program.toUtf8() + " did not run: " + process.errorString().toUtf8();
        return result;
    }
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    return result;
}

QByteArray readFile(const QString &path)
{
    QFile file {path};
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray {};
}

} // namespace

class TestDebPackage final : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void controlFieldsDescribeThePackage();
    void everyPromisedFileIsThereAndConsistent();
    void manPageDocumentsEveryOption();
    void unpackedBinaryRunsItsVersionAndShippedPolicy();
    void unpackedBinaryServesAHeadlessRequest();

private:
    QString root(const QString &relative) const { return m_root.filePath(relative); }

    QString m_package;
    QTemporaryDir m_root;
};

void TestDebPackage::initTestCase()
{
    const QStringList packages = QDir {PACKAGE_DIR}.entryList({QStringLiteral("switchyard_*.deb")}, QDir::Files, QDir::Time);
    QVERIFY2(!packages.isEmpty(), qPrintable(QStringLiteral("no switchyard_*.deb in ") + PACKAGE_DIR));
    m_package = QDir {PACKAGE_DIR}.filePath(packages.constFirst());
    QVERIFY(m_root.isValid());
    const auto unpacked = run(QStringLiteral("dpkg"), {QStringLiteral("-x"), m_package, m_root.path()});
    QVERIFY2(unpacked.exitCode == 0, unpacked.err.constData());
}

void TestDebPackage::controlFieldsDescribeThePackage()
{
    const auto fields = run(QStringLiteral("dpkg-deb"), {QStringLiteral("-f"), m_package, QStringLiteral("Package"),
                                                         QStringLiteral("Version"), QStringLiteral("Depends"),
                                                         QStringLiteral("Section")});
    QVERIFY2(fields.exitCode == 0, fields.err.constData());
    QVERIFY2(fields.out.contains("Package: switchyard\n"), fields.out.constData());
    QVERIFY2(fields.out.contains(QByteArray("Version: " + VERSION.toUtf8() + "\n")), fields.out.constData());
    QVERIFY2(fields.out.contains("Section: net\n"), fields.out.constData());
    // dpkg-shlibdeps found what the binary links: Qt and libcurl at least.
    QVERIFY2(fields.out.contains("libqt6core6"), fields.out.constData());
    QVERIFY2(fields.out.contains("libcurl"), fields.out.constData());
    // The operator's policy survives upgrades.
    QTemporaryDir control;
    QVERIFY(control.isValid());
    const auto extracted = run(QStringLiteral("dpkg-deb"), {QStringLiteral("-e"), m_package, control.filePath(QStringLiteral("DEBIAN"))});
    QVERIFY2(extracted.exitCode == 0, extracted.err.constData());
    QCOMPARE(readFile(control.filePath(QStringLiteral("DEBIAN/conffiles"))), QByteArray("/etc/switchyard/policy.yaml\n"));
}

void TestDebPackage::everyPromisedFileIsThereAndConsistent()
{
    const QString binary = root(QStringLiteral("usr/bin/switchyard"));
    QVERIFY(QFileInfo {binary}.isExecutable());
    const QByteArray desktop = readFile(root(QStringLiteral("usr/share/applications/switchyard.desktop")));
    QVERIFY(desktop.startsWith("[Desktop Entry]\n"));
    QVERIFY(desktop.contains("\nExec=switchyard\n"));
    QVERIFY(desktop.contains("\nIcon=switchyard\n"));
    const QByteArray icon = readFile(root(QStringLiteral("usr/share/icons/hicolor/scalable/apps/switchyard.svg")));
    QVERIFY(icon.contains("<svg"));
    QVERIFY(QFileInfo::exists(root(QStringLiteral("usr/share/man/man1/switchyard.1.gz"))));
    QVERIFY(QFileInfo::exists(root(QStringLiteral("usr/share/doc/switchyard/CONFIG.md"))));
    QVERIFY(QFileInfo::exists(root(QStringLiteral("usr/share/doc/switchyard/tokenizers-LICENSE"))));

    // The unit starts the packaged binary headless on the packaged policy.
    const QByteArray unit = readFile(root(QStringLiteral("usr/lib/systemd/system/switchyard.service")));
    const QRegularExpression execStart {QStringLiteral("^ExecStart=(\\S+) (.*)$"), QRegularExpression::MultilineOption};
    const auto match = execStart.match(QString::fromUtf8(unit));
    QVERIFY2(match.hasMatch(), unit.constData());
    QCOMPARE(match.captured(1), QStringLiteral("/usr/bin/switchyard"));
    const QString arguments = match.captured(2);
    QVERIFY2(arguments.contains(QStringLiteral("--headless")), qPrintable(arguments));
    QVERIFY2(arguments.contains(QStringLiteral("--config /etc/switchyard/policy.yaml")), qPrintable(arguments));
    QVERIFY(QFileInfo::exists(root(QStringLiteral("etc/switchyard/policy.yaml"))));
    QVERIFY(unit.contains("\n[Install]\nWantedBy=multi-user.target\n"));
}

void TestDebPackage::manPageDocumentsEveryOption()
{
    const auto page = run(QStringLiteral("gzip"), {QStringLiteral("-dc"), root(QStringLiteral("usr/share/man/man1/switchyard.1.gz"))});
    QVERIFY2(page.exitCode == 0, page.err.constData());
    QString manPage = QString::fromUtf8(page.out);
    manPage.replace(QStringLiteral("\\-"), QStringLiteral("-")); // troff's escaped hyphens
    const auto help = run(root(QStringLiteral("usr/bin/switchyard")), {QStringLiteral("--help")});
    QCOMPARE(help.exitCode, 0);
    const QRegularExpression option {QStringLiteral("^\\s+(?:-\\w, )?(--[a-z][a-z-]*)"), QRegularExpression::MultilineOption};
    int options = 0;
    for (auto it = option.globalMatch(QString::fromUtf8(help.out)); it.hasNext();) {
        const QString name = it.next().captured(1);
        ++options;
        QVERIFY2(manPage.contains(name), qPrintable(name + QStringLiteral(" is in --help but not in the man page")));
    }
    QVERIFY2(options >= 10, help.out.constData());
    // ... and so does the command-line section of docs/CONFIG.md (shipped in the package).
    const QString config = QString::fromUtf8(readFile(root(QStringLiteral("usr/share/doc/switchyard/CONFIG.md"))));
    const QString commandLine = config.mid(config.indexOf(QStringLiteral("## Command line")));
    QVERIFY(commandLine.size() > 100);
    for (auto it = option.globalMatch(QString::fromUtf8(help.out)); it.hasNext();) {
        const QString name = it.next().captured(1);
        if (name != QStringLiteral("--help-all")) { // Qt's own, listed with --help
            QVERIFY2(commandLine.contains(name), qPrintable(name + QStringLiteral(" is in --help but not in docs/CONFIG.md")));
        }
    }
    for (const char *command : {"export", "import-litellm", "audit verify", "audit list"}) {
        QVERIFY2(manPage.contains(QLatin1String(command)), command);
    }
}

void TestDebPackage::unpackedBinaryRunsItsVersionAndShippedPolicy()
{
    const auto version = run(root(QStringLiteral("usr/bin/switchyard")), {QStringLiteral("--version")});
    QCOMPARE(version.exitCode, 0);
    QCOMPARE(version.out.trimmed(), QByteArray("switchyard " + VERSION.toUtf8()));
    // The policy /etc ships is valid: the gateway starts on it (its vLLM server need not run).
    QTemporaryDir data;
    QVERIFY(data.isValid());
    SwitchyardProcess process {root(QStringLiteral("usr/bin/switchyard"))};
    process.start(data.path(), {QStringLiteral("--config"), root(QStringLiteral("etc/switchyard/policy.yaml")),
                                QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0")});
    QVERIFY2(process.waitUntilListening() != 0, process.standardError().constData());
}

void TestDebPackage::unpackedBinaryServesAHeadlessRequest()
{
    SimulatedUpstream sim {QStringLiteral("sim"), Flavor::OpenAi};
    QVERIFY(sim.listen().hasValue());
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString policy = dir.filePath(QStringLiteral("policy.yaml"));
    QFile file {policy};
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("gateway:\n  listen: 127.0.0.1:0\n  threads: 1\nproviders:\n  - {name: sim, type: vllm, base_url: " +
               sim.baseUrl() + "}\nroutes:\n  - model: chat\n    targets: [{provider: sim, model: m}]\n");
    file.close();
    SwitchyardProcess process {root(QStringLiteral("usr/bin/switchyard"))};
    process.start(dir.filePath(QStringLiteral("data")), {QStringLiteral("--headless"), QStringLiteral("--config"), policy});
    const quint16 port = process.waitUntilListening();
    QVERIFY2(port != 0, process.standardError().constData());
    TestHttpClient client {port};
    client.post("/v1/chat/completions", R"({"model":"chat","max_tokens":4,"messages":[{"role":"user","content":"hi"}]})");
    QVERIFY(client.waitForResponses(1, 20000));
    const auto response = client.responses().constFirst();
    QCOMPARE(response.status, 200);
    QVERIFY(QJsonDocument::fromJson(response.body).object().contains(QStringLiteral("choices")));
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("sim/m"));
}

QTEST_GUILESS_MAIN(TestDebPackage)
#include "testdebpackage.moc"
