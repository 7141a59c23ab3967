// `switchyard export`, `import` and `import-litellm` against a store in a temp directory.

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

namespace {

const QString BINARY = QStringLiteral(SWITCHYARD_BINARY);
const QString CONFIG_DATA = QStringLiteral(CONFIG_TEST_DATA_DIR);
const QByteArray SECRET = QByteArrayLiteral("sk-live-export-secret-4242");

struct Result {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

} // namespace

class TestStoreCommands final : public QObject {
    Q_OBJECT

private slots:
    void init();

    void importThenExportRedactsSecrets();
    void exportWithSecretsIncludesThem();
    void importingTheSameFileTwiceIsUnchanged();
    void redactedExportImportsBackKeepingSecrets();
    void invalidImportNamesTheField();
    void liteLlmImportReportsMappedAndUnmapped();
    void liteLlmImportNamesAnUnsetVariable();
    void secretsNeverReachTheStoreFiles();

private:
    Result run(const QStringList &arguments, const QProcessEnvironment &extra = {});
    QString write(const QString &name, const QByteArray &content);
    QByteArray policy() const;

    std::unique_ptr<QTemporaryDir> m_dir;
};

void TestStoreCommands::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
}

Result TestStoreCommands::run(const QStringList &arguments, const QProcessEnvironment &extra)
{
    QProcess process;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove(QStringLiteral("DISPLAY"));
    environment.remove(QStringLiteral("WAYLAND_DISPLAY"));
    for (const QString &key : extra.keys()) {
        environment.insert(key, extra.value(key));
    }
    process.setProcessEnvironment(environment);
    process.start(BINARY, arguments + QStringList {QStringLiteral("--data-dir"), m_dir->filePath(QStringLiteral("data"))});
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

QString TestStoreCommands::write(const QString &name, const QByteArray &content)
{
    const QString path = m_dir->filePath(name);
    QFile file {path};
    file.open(QIODevice::WriteOnly);
    file.write(content);
    return path;
}

QByteArray TestStoreCommands::policy() const
{
    return "providers:\n"
           "  - name: openai\n"
           "    type: openai\n"
           "    base_url: https://api.openai.com/v1\n"
           "    keys: [{name: primary, secret: " + SECRET + "}]\n"
           "routes:\n"
           "  - model: chat\n"
           "    targets: [{provider: openai, model: gpt-4o-mini}]\n";
}

void TestStoreCommands::importThenExportRedactsSecrets()
{
    const auto imported = run({QStringLiteral("import"), write(QStringLiteral("p.yaml"), policy())});
    QCOMPARE(imported.exitCode, 0);
    QVERIFY2(imported.out.contains("imported as policy version 1"), imported.out.constData());
    const auto exported = run({QStringLiteral("export")});
    QCOMPARE(exported.exitCode, 0);
    QVERIFY(exported.out.contains("model: chat"));
    QVERIFY(exported.out.contains("secret: \"***\""));
    QVERIFY(!exported.out.contains(SECRET));
    QVERIFY(!exported.err.contains(SECRET));
}

void TestStoreCommands::exportWithSecretsIncludesThem()
{
    QCOMPARE(run({QStringLiteral("import"), write(QStringLiteral("p.yaml"), policy())}).exitCode, 0);
    const QString out = m_dir->filePath(QStringLiteral("full.yaml"));
    QCOMPARE(run({QStringLiteral("export"), QStringLiteral("--include-secrets"), QStringLiteral("--out"), out}).exitCode, 0);
    QFile file {out};
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(file.readAll().contains(SECRET));
    QCOMPARE(file.permissions() & (QFileDevice::ReadOther | QFileDevice::ReadGroup), QFileDevice::Permissions {});
}

void TestStoreCommands::importingTheSameFileTwiceIsUnchanged()
{
    const QString path = write(QStringLiteral("p.yaml"), policy());
    QCOMPARE(run({QStringLiteral("import"), path}).exitCode, 0);
    const auto again = run({QStringLiteral("import"), path});
    QCOMPARE(again.exitCode, 0);
    QVERIFY2(again.out.contains("unchanged"), again.out.constData());
}

void TestStoreCommands::redactedExportImportsBackKeepingSecrets()
{
    QCOMPARE(run({QStringLiteral("import"), write(QStringLiteral("p.yaml"), policy())}).exitCode, 0);
    const auto exported = run({QStringLiteral("export")});
    // Edit the redacted export (a new route) and import it: the stored secret is kept.
    QByteArray edited = exported.out;
    edited.replace("virtual_keys:", "  - model: chat-2\n    targets: [{provider: openai, model: gpt-4o}]\nvirtual_keys:");
    const auto imported = run({QStringLiteral("import"), write(QStringLiteral("edited.yaml"), edited)});
    QVERIFY2(imported.exitCode == 0, imported.err.constData());
    QVERIFY(imported.out.contains("version 2"));
    const QString full = m_dir->filePath(QStringLiteral("full.yaml"));
    QCOMPARE(run({QStringLiteral("export"), QStringLiteral("--include-secrets"), QStringLiteral("--out"), full}).exitCode, 0);
    QFile file {full};
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray bytes = file.readAll();
    QVERIFY(bytes.contains(SECRET));
    QVERIFY(bytes.contains("model: chat-2"));
}

void TestStoreCommands::invalidImportNamesTheField()
{
    QByteArray broken = policy();
    broken.replace("model: gpt-4o-mini}", "model: gpt-4o-mini, weight: -1}");
    const auto result = run({QStringLiteral("import"), write(QStringLiteral("bad.yaml"), broken)});
    QCOMPARE(result.exitCode, 2);
    QVERIFY2(result.err.contains("bad.yaml:8:"), result.err.constData());
    QVERIFY2(result.err.contains("routes[0].targets[0].weight"), result.err.constData());
    // A placeholder with nothing stored behind it is refused, naming the field.
    QByteArray placeholder = policy();
    placeholder.replace(SECRET, "\"***\"");
    const auto refused = run({QStringLiteral("import"), write(QStringLiteral("placeholder.yaml"), placeholder)});
    QCOMPARE(refused.exitCode, 2);
    QVERIFY2(refused.err.contains("providers[0].keys[0].secret"), refused.err.constData());
}

void TestStoreCommands::liteLlmImportReportsMappedAndUnmapped()
{
    QProcessEnvironment environment;
    environment.insert(QStringLiteral("AZURE_EASTUS_API_KEY"), QStringLiteral("sk-az-east"));
    environment.insert(QStringLiteral("AZURE_SWEDEN_API_KEY"), QStringLiteral("sk-az-sweden"));
    environment.insert(QStringLiteral("OPENAI_API_KEY"), QStringLiteral("sk-openai"));
    const auto result = run({QStringLiteral("import-litellm"), CONFIG_DATA + QStringLiteral("/litellm-openai-azure.yaml")},
                            environment);
    QVERIFY2(result.exitCode == 0, result.err.constData());
    QVERIFY(result.out.contains("mapped:"));
    QVERIFY(result.out.contains("imported as policy version 1"));
    const auto exported = run({QStringLiteral("export")});
    QVERIFY(exported.out.contains("model: gpt-4o"));
    QVERIFY(!exported.out.contains("sk-az-east"));

    const auto messy = run({QStringLiteral("import-litellm"), CONFIG_DATA + QStringLiteral("/litellm-messy.yaml"),
                            QStringLiteral("--out"), m_dir->filePath(QStringLiteral("converted.yaml"))},
                           environment);
    QVERIFY2(messy.exitCode == 0, messy.err.constData());
    QVERIFY(messy.out.contains("unmapped:"));
    QVERIFY(messy.out.contains("(not imported)"));
    QVERIFY(QFile::exists(m_dir->filePath(QStringLiteral("converted.yaml"))));
}

void TestStoreCommands::liteLlmImportNamesAnUnsetVariable()
{
    QProcessEnvironment environment;
    environment.insert(QStringLiteral("OPENAI_API_KEY"), QStringLiteral("sk-openai"));
    const auto result = run({QStringLiteral("import-litellm"), CONFIG_DATA + QStringLiteral("/litellm-openai-azure.yaml")},
                            environment);
    QCOMPARE(result.exitCode, 2);
    QVERIFY2(result.err.contains("AZURE_EASTUS_API_KEY"), result.err.constData());
}

void TestStoreCommands::secretsNeverReachTheStoreFiles()
{
    QCOMPARE(run({QStringLiteral("import"), write(QStringLiteral("p.yaml"), policy())}).exitCode, 0);
    const QDir data {m_dir->filePath(QStringLiteral("data"))};
    for (const QString &name : data.entryList(QDir::Files)) {
        if (name == u"secret.key" || name == u"admin.token") {
            continue;
        }
        QFile file {data.filePath(name)};
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY2(!file.readAll().contains(SECRET), qPrintable(name));
    }
}

QTEST_GUILESS_MAIN(TestStoreCommands)
#include "teststorecommands.moc"
