// The policy editor against a real store (SQLite in a temporary directory) and a real
// gateway: invalid input is refused with the field named, Apply writes a new version and
// the gateway routes by it, Rollback restores the previous one; the same through the
// structured route form.

#include "storegateway.h"

#include "admin/adminclient.h"
#include "policyeditor/policyeditorview.h"
#include "policyeditor/routeform.h"

#include "policyservice.h"

#include <QComboBox>
#include <QLabel>
#include <QListWidget>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

class TestPolicyEditor final : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void showsTheActiveVersion();
    void rejectsInvalidInputNamingTheField();
    void applyStoresAVersionAndTheGatewayRoutesByIt();
    void rollbackRestoresThePreviousVersion();
    void importsAndExportsFiles();
    void formFollowsTheText();
    void formRejectsAnInvalidValueNamingTheField();
    void formApplyStoresAVersionAndTheGatewayRoutesByIt();

private:
    std::unique_ptr<UiTest::StoreGateway> m_env;
    std::unique_ptr<Ui::AdminClient> m_admin;
    std::unique_ptr<Ui::PolicyEditorView> m_view;
};

void TestPolicyEditor::init()
{
    m_env = std::make_unique<UiTest::StoreGateway>();
    QVERIFY(m_env->start());
    m_admin = std::make_unique<Ui::AdminClient>(m_env->store());
    m_view = std::make_unique<Ui::PolicyEditorView>(*m_admin);
    m_view->show();
    QTRY_VERIFY(!m_view->activeDocument().isEmpty());
}

void TestPolicyEditor::cleanup()
{
    m_view.reset();
    m_admin.reset();
    m_env.reset();
}

void TestPolicyEditor::showsTheActiveVersion()
{
    QVERIFY(m_view->activeDocument().startsWith(QStringLiteral("# policy version 1")));
    QCOMPARE(m_view->editor()->toPlainText(), m_view->activeDocument());
    QTRY_COMPARE(m_view->versionsTable()->rowCount(), 1);
}

void TestPolicyEditor::rejectsInvalidInputNamingTheField()
{
    QSignalSpy validated {m_view.get(), &Ui::PolicyEditorView::validated};
    m_view->editor()->setPlainText(QString::fromUtf8(m_env->policyYaml("0")));
    QTRY_VERIFY(!validated.isEmpty());
    QCOMPARE(validated.last().at(0).toBool(), false);
    QCOMPARE(m_view->errorField(), QStringLiteral("routes[0].targets[1].weight"));
    QVERIFY(m_view->validationLabel()->text().contains(QStringLiteral("routes[0].targets[1].weight")));
    QCOMPARE(m_view->errorLine(), 10); // the targets line of policyYaml()
    QVERIFY(!m_view->editor()->extraSelections().isEmpty());

    // Apply refuses it too, and nothing is stored.
    QSignalSpy failed {m_view.get(), &Ui::PolicyEditorView::failed};
    m_view->applyButton()->click();
    QTRY_COMPARE(failed.count(), 1);
    QCOMPARE(m_env->versionCount(), 1);

    // Fixing the field clears the error.
    m_view->editor()->setPlainText(QString::fromUtf8(m_env->policyYaml("2")));
    QTRY_VERIFY(m_view->isValid());
    QVERIFY(m_view->errorField().isEmpty());
    QVERIFY(m_view->diffView()->toPlainText().contains(QStringLiteral("weight: 2")));
}

void TestPolicyEditor::applyStoresAVersionAndTheGatewayRoutesByIt()
{
    QCOMPARE(m_env->chat("fresh").status, 404);
    const QByteArray extra = "  - model: fresh\n    targets: [{provider: b, model: mb}]\n";
    m_view->editor()->setPlainText(QString::fromUtf8(m_env->policyYaml("1", extra)));
    m_view->commentEdit()->setText(QStringLiteral("add fresh"));
    QSignalSpy applied {m_view.get(), &Ui::PolicyEditorView::applied};
    m_view->applyButton()->click();
    QTRY_COMPARE(applied.count(), 1);
    QCOMPARE(applied.first().at(0).toLongLong(), 2);
    QCOMPARE(applied.first().at(1).toBool(), true);
    QCOMPARE(m_env->versionCount(), 2);

    const auto response = m_env->chat("fresh");
    QCOMPARE(response.status, 200);
    QCOMPARE(response.header("x-switchyard-backend"), QByteArray("b/mb"));
    // The editor now shows the stored version, and the versions list has the comment.
    QTRY_VERIFY(m_view->activeDocument().startsWith(QStringLiteral("# policy version 2")));
    QTRY_COMPARE(m_view->editor()->toPlainText(), m_view->activeDocument());
    QTRY_COMPARE(m_view->versionsTable()->rowCount(), 2);
    QCOMPARE(m_view->versionsTable()->item(0, 4)->text(), QStringLiteral("add fresh"));
}

void TestPolicyEditor::rollbackRestoresThePreviousVersion()
{
    const QByteArray extra = "  - model: fresh\n    targets: [{provider: b, model: mb}]\n";
    m_view->editor()->setPlainText(QString::fromUtf8(m_env->policyYaml("1", extra)));
    QSignalSpy applied {m_view.get(), &Ui::PolicyEditorView::applied};
    m_view->applyButton()->click();
    QTRY_COMPARE(applied.count(), 1);
    QCOMPARE(m_env->chat("fresh").status, 200);

    QTRY_COMPARE(m_view->versionsTable()->rowCount(), 2);
    m_view->versionsTable()->selectRow(1); // version 1, newest first
    QVERIFY(m_view->rollbackButton()->isEnabled());
    QSignalSpy rolledBack {m_view.get(), &Ui::PolicyEditorView::rolledBack};
    m_view->rollbackButton()->click();
    QTRY_COMPARE(rolledBack.count(), 1);
    QCOMPARE(rolledBack.first().at(0).toLongLong(), 1);
    QCOMPARE(m_env->chat("fresh").status, 404);
    QCOMPARE(m_env->chat("chat").status, 200);
    QTRY_VERIFY(m_view->activeDocument().startsWith(QStringLiteral("# policy version 1")));
    QTRY_VERIFY(!m_view->editor()->toPlainText().contains(QStringLiteral("fresh")));
}

void TestPolicyEditor::importsAndExportsFiles()
{
    QTemporaryDir dir;
    const QString exported = dir.filePath(QStringLiteral("policy.yaml"));
    m_view->exportFile(exported);
    QTRY_VERIFY(m_view->validationLabel()->text().contains(QStringLiteral("Exported")));
    QFile file {exported};
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromUtf8(file.readAll()), m_view->activeDocument());

    const QString liteLlm = dir.filePath(QStringLiteral("litellm.yaml"));
    QFile source {liteLlm};
    QVERIFY(source.open(QIODevice::WriteOnly));
    source.write("model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o\n"
                 "      api_key: os.environ/OPENAI_API_KEY\n");
    source.close();
    QSignalSpy validated {m_view.get(), &Ui::PolicyEditorView::validated};
    m_view->importFile(liteLlm, true);
    QTRY_VERIFY(m_view->editor()->toPlainText().contains(QStringLiteral("model: gpt-4o")));
    QTRY_VERIFY(!validated.isEmpty());
    QCOMPARE(m_env->versionCount(), 1); // an import is an edit until applied
}

void TestPolicyEditor::formFollowsTheText()
{
    Ui::RouteForm *form = m_view->form();
    QTRY_COMPARE(form->routeList()->count(), 1);
    QVERIFY(form->isEnabled());
    QCOMPARE(form->lineEdit(QStringLiteral("model"))->text(), QStringLiteral("chat"));
    QCOMPARE(form->targetsTable()->rowCount(), 2);
    QCOMPARE(form->targetsTable()->item(1, 0)->text(), QStringLiteral("b"));
    QCOMPARE(form->targetsTable()->item(1, 2)->text(), QStringLiteral("1"));

    // A YAML edit refreshes the form once typing pauses.
    const QByteArray extra = "  - model: fresh\n    strategy: p2c\n    targets: [{provider: b, model: mb, max_concurrency: 4}]\n"
                             "    fallbacks: [chat]\n    retry: {attempts: 2}\n";
    m_view->editor()->setPlainText(QString::fromUtf8(m_env->policyYaml("1", extra)));
    QTRY_COMPARE(form->routeList()->count(), 2);
    form->routeList()->setCurrentRow(1);
    QCOMPARE(form->lineEdit(QStringLiteral("model"))->text(), QStringLiteral("fresh"));
    QCOMPARE(form->strategyBox()->currentText(), QStringLiteral("p2c"));
    QCOMPARE(form->lineEdit(QStringLiteral("fallbacks"))->text(), QStringLiteral("chat"));
    QCOMPARE(form->lineEdit(QStringLiteral("retry.attempts"))->text(), QStringLiteral("2"));
    QCOMPARE(form->targetsTable()->item(0, 3)->text(), QStringLiteral("4"));

    // Text that is not YAML leaves the form as it was, disabled, until it parses again.
    m_view->editor()->setPlainText(QStringLiteral("routes: [\n"));
    QTRY_VERIFY(!form->isEnabled());
    QCOMPARE(form->routeList()->count(), 2);
}

void TestPolicyEditor::formRejectsAnInvalidValueNamingTheField()
{
    Ui::RouteForm *form = m_view->form();
    QTRY_COMPARE(form->targetsTable()->rowCount(), 2);
    QSignalSpy validated {m_view.get(), &Ui::PolicyEditorView::validated};
    form->targetsTable()->item(1, 2)->setText(QStringLiteral("-1")); // the weight of b/mb
    // The form wrote the value into the document; the store's validation refuses it.
    QVERIFY(m_view->editor()->toPlainText().contains(QStringLiteral("weight: -1")));
    QTRY_VERIFY(!validated.isEmpty());
    QCOMPARE(validated.last().at(0).toBool(), false);
    QCOMPARE(m_view->errorField(), QStringLiteral("routes[0].targets[1].weight"));
    QCOMPARE(form->markedField(), QStringLiteral("routes[0].targets[1].weight"));
    QVERIFY(form->errorLabel()->text().contains(QStringLiteral("routes[0].targets[1].weight")));
    QVERIFY(form->targetsTable()->item(1, 2)->background().style() != Qt::NoBrush);
    QCOMPARE(form->targetsTable()->item(0, 2)->background().style(), Qt::NoBrush);

    // Another field: the retry attempts line edit is named and marked.
    form->targetsTable()->item(1, 2)->setText(QStringLiteral("1"));
    QLineEdit *attempts = form->lineEdit(QStringLiteral("retry.attempts"));
    attempts->setText(QStringLiteral("99"));
    validated.clear();
    emit attempts->editingFinished();
    QTRY_VERIFY(!validated.isEmpty());
    QCOMPARE(validated.last().at(0).toBool(), false);
    QCOMPARE(form->markedField(), QStringLiteral("routes[0].retry.attempts"));
    QVERIFY(form->errorLabel()->text().contains(QStringLiteral("routes[0].retry.attempts")));
    QVERIFY(attempts->palette().color(QPalette::Base) != form->palette().color(QPalette::Base));

    // Clearing it restores the default: valid again, marks gone, nothing stored meanwhile.
    attempts->clear();
    validated.clear();
    emit attempts->editingFinished();
    QTRY_VERIFY(!validated.isEmpty());
    QVERIFY(m_view->isValid());
    QVERIFY(form->markedField().isEmpty());
    QVERIFY(!m_view->editor()->toPlainText().contains(QStringLiteral("attempts")));
    QCOMPARE(m_env->versionCount(), 1);
}

void TestPolicyEditor::formApplyStoresAVersionAndTheGatewayRoutesByIt()
{
    Ui::RouteForm *form = m_view->form();
    QTRY_COMPARE(form->targetsTable()->rowCount(), 2);
    // Drop target a/ma, switch the strategy and cap b/mb: every request must then reach b/mb.
    form->targetsTable()->selectRow(0);
    QPushButton *remove = nullptr;
    for (QPushButton *button : form->findChildren<QPushButton *>()) {
        if (button->text() == QStringLiteral("Remove target")) {
            remove = button;
        }
    }
    QVERIFY(remove != nullptr);
    remove->click();
    QCOMPARE(form->targetsTable()->rowCount(), 1);
    const int roundRobin = form->strategyBox()->findText(QStringLiteral("round_robin"));
    QVERIFY(roundRobin >= 0);
    form->strategyBox()->setCurrentIndex(roundRobin);
    emit form->strategyBox()->activated(roundRobin);
    form->targetsTable()->item(0, 3)->setText(QStringLiteral("8")); // a concurrency limit
    const QString text = m_view->editor()->toPlainText();
    QVERIFY2(!text.contains(QStringLiteral("model: ma")) && text.contains(QStringLiteral("round_robin"))
                 && text.contains(QStringLiteral("max_concurrency: 8")),
             qPrintable(text));
    QTRY_VERIFY2(m_view->isValid(), qPrintable(m_view->validationLabel()->text() + QLatin1Char('\n') + text));

    m_view->commentEdit()->setText(QStringLiteral("only b, from the form"));
    QSignalSpy applied {m_view.get(), &Ui::PolicyEditorView::applied};
    m_view->applyButton()->click();
    QTRY_COMPARE(applied.count(), 1);
    QCOMPARE(applied.first().at(0).toLongLong(), 2);
    QCOMPARE(applied.first().at(1).toBool(), true);
    QCOMPARE(m_env->versionCount(), 2);
    for (int i = 0; i < 6; ++i) {
        const auto response = m_env->chat("chat");
        QCOMPARE(response.status, 200);
        QCOMPARE(response.header("x-switchyard-backend"), QByteArray("b/mb"));
    }
    QTRY_VERIFY(m_view->activeDocument().startsWith(QStringLiteral("# policy version 2")));
    QVERIFY(m_view->activeDocument().contains(QStringLiteral("round_robin")));
    QTRY_COMPARE(form->targetsTable()->rowCount(), 1);
    QCOMPARE(form->strategyBox()->currentText(), QStringLiteral("round_robin"));
}

QTEST_MAIN(TestPolicyEditor)
#include "testpolicyeditor.moc"
