// The switchyard executable as an operator meets it: exit codes, configuration errors
// that name file:line and field, a clean drain on SIGTERM.

#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

namespace {

const QString BINARY = QStringLiteral(SWITCHYARD_BINARY);

} // namespace

class TestCommandLine final : public QObject {
    Q_OBJECT

private slots:
    void init();

    void versionPrintsAndExitsZero();
    void unknownOptionExitsTwo();
    void invalidConfigNamesFileLineAndField();
    void unsetEnvironmentVariableIsAConfigError();
    void missingConfigFileIsAnError();
    void headlessServesAndDrainsOnSigterm();
    void badRedisUrlExitsTwoWithoutThePassword();

private:
    QString writeConfig(const QByteArray &yaml);
    int run(const QStringList &arguments, QByteArray &output, QByteArray &errors);

    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestCommandLine::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

QString TestCommandLine::writeConfig(const QByteArray &yaml)
{
    const QString path = m_dir->filePath(QStringLiteral("policy.yaml"));
    QFile file {path};
    file.open(QIODevice::WriteOnly);
    file.write(yaml);
    return path;
}

int TestCommandLine::run(const QStringList &arguments, QByteArray &output, QByteArray &errors)
{
    QProcess process;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove(QStringLiteral("DISPLAY"));
    environment.remove(QStringLiteral("WAYLAND_DISPLAY"));
    environment.remove(QStringLiteral("SWITCHYARD_TEST_UNSET"));
    process.setProcessEnvironment(environment);
    process.start(BINARY, QStringList {QStringLiteral("--data-dir"), m_dir->path()} + arguments);
    if (!process.waitForFinished(20000)) {
        process.kill();
        return -1;
    }
    output = process.readAllStandardOutput();
    errors = process.readAllStandardError();
    return process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
}

void TestCommandLine::versionPrintsAndExitsZero()
{
    QByteArray output;
    QByteArray errors;
    QCOMPARE(run({QStringLiteral("--version")}, output, errors), 0);
    QVERIFY2(output.contains("switchyard"), output.constData());
}

void TestCommandLine::unknownOptionExitsTwo()
{
    QByteArray output;
    QByteArray errors;
    QCOMPARE(run({QStringLiteral("--headless"), QStringLiteral("--frobnicate")}, output, errors), 2);
    QVERIFY2(errors.contains("frobnicate"), errors.constData());
}

void TestCommandLine::invalidConfigNamesFileLineAndField()
{
    const QString path = writeConfig(R"(providers:
  - name: gpu-1
    type: vllm
    base_url: http://127.0.0.1:9001/v1
routes:
  - model: chat
    targets:
      - {provider: gpu-1, model: llama, weight: 0}
)");
    QByteArray output;
    QByteArray errors;
    QCOMPARE(run({QStringLiteral("--headless"), QStringLiteral("--config"), path}, output, errors), 2);
    QVERIFY2(errors.contains(QByteArray(path.toUtf8() + ":8:")), errors.constData());
    QVERIFY2(errors.contains("routes[0].targets[0].weight"), errors.constData());
    QVERIFY2(errors.contains("greater than 0"), errors.constData());
}

void TestCommandLine::unsetEnvironmentVariableIsAConfigError()
{
    const QString path = writeConfig("gateway:\n  admin_token: ${SWITCHYARD_TEST_UNSET}\n");
    QByteArray output;
    QByteArray errors;
    QCOMPARE(run({QStringLiteral("--headless"), QStringLiteral("--config"), path}, output, errors), 2);
    QVERIFY2(errors.contains(":2:"), errors.constData());
    QVERIFY2(errors.contains("gateway.admin_token"), errors.constData());
    QVERIFY2(errors.contains("SWITCHYARD_TEST_UNSET"), errors.constData());
}

void TestCommandLine::missingConfigFileIsAnError()
{
    QByteArray output;
    QByteArray errors;
    QCOMPARE(run({QStringLiteral("--headless"), QStringLiteral("--config"), m_dir->filePath(QStringLiteral("none.yaml"))},
                 output, errors),
             2);
    QVERIFY2(errors.contains("none.yaml"), errors.constData());
}

void TestCommandLine::headlessServesAndDrainsOnSigterm()
{
    // A provider key in the policy must never show up in what the process prints.
    const QString path = writeConfig("gateway:\n  listen: 127.0.0.1:0\n  threads: 1\n"
                                     "providers:\n  - name: p\n    type: openai\n    base_url: http://127.0.0.1:9/v1\n"
                                     "    keys: [{name: k, secret: sk-never-print-this-0001}]\n"
                                     "routes:\n  - model: chat\n    targets: [{provider: p, model: m}]\n");
    QProcess process;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove(QStringLiteral("DISPLAY"));
    environment.remove(QStringLiteral("WAYLAND_DISPLAY"));
    process.setProcessEnvironment(environment);
    process.start(BINARY, {QStringLiteral("--headless"), QStringLiteral("--config"), path, QStringLiteral("--data-dir"),
                           m_dir->path()});
    QByteArray output;
    QTRY_VERIFY_WITH_TIMEOUT((output += process.readAllStandardOutput()).contains("msg=\"listening\""), 10000);
    const auto match = QRegularExpression(QStringLiteral(R"(url=http://127\.0\.0\.1:(\d+)/v1)")).match(QString::fromUtf8(output));
    QVERIFY2(match.hasMatch(), output.constData());
    QVERIFY(match.captured(1).toInt() > 0);

    ::kill(static_cast<pid_t>(process.processId()), SIGTERM);
    QVERIFY(process.waitForFinished(10000));
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(process.exitCode(), 0);
    output += process.readAllStandardOutput();
    QVERIFY2(output.contains("msg=\"stopped\""), output.constData());
    const QByteArray everything = output + process.readAllStandardError();
    QVERIFY(!everything.contains("sk-never-print-this-0001"));
}

void TestCommandLine::badRedisUrlExitsTwoWithoutThePassword()
{
    QByteArray output;
    QByteArray errors;
    QCOMPARE(run({QStringLiteral("--headless"), QStringLiteral("--redis"),
                  QStringLiteral("http://:hunter2-never-print@cache:6379")},
                 output, errors),
             2);
    QVERIFY2(errors.contains("--redis"), errors.constData());
    QVERIFY(!QByteArray(output + errors).contains("hunter2-never-print"));
    QCOMPARE(run({QStringLiteral("--headless"), QStringLiteral("--redis-timeout-ms"), QStringLiteral("0")}, output, errors),
             2);
    QVERIFY2(errors.contains("--redis-timeout-ms"), errors.constData());
}

QTEST_GUILESS_MAIN(TestCommandLine)
#include "testcommandline.moc"
