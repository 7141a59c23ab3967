#include "policyeditorview.h"

#include "linediff.h"
#include "routeform.h"
#include "yamlhighlighter.h"

#include "admin/adminclient.h"
#include "semanticcolors.h"

#include "config/litellmimport.h"
#include "config/policywriter.h"

#include <QDateTime>
#include <QEvent>
#include <QFile>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTextBlock>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace Ui {

namespace {

enum VersionColumn { IdColumn, ActiveColumn, CreatedColumn, AuthorColumn, CommentColumn, VersionColumnCount };

// The store names errors "source:line:column: field: message".
int lineOf(const QString &message)
{
    static const QRegularExpression position {QStringLiteral(R"(^[^\n]*?:(\d+):(\d+): )")};
    const auto match = position.match(message);
    return match.hasMatch() ? match.captured(1).toInt() : 0;
}

struct FileResult {
    bool ok = false;
    QString text;  // the document (import) or the error
};

// Runs on a pool thread: file I/O and the LiteLLM conversion stay off the GUI thread.
FileResult readPolicyFile(const QString &path, bool liteLlm)
{
    QFile file {path};
    if (!file.open(QIODevice::ReadOnly)) {
        return {false, file.errorString()};
    }
    const QByteArray bytes = file.readAll();
    if (!liteLlm) {
        return {true, QString::fromUtf8(bytes)};
    }
    auto converted = Gateway::Config::importLiteLlmConfig(bytes, path);
    if (!converted) {
        return {false, converted.error().toString()};
    }
    QString text = QStringLiteral("# Imported from LiteLLM config %1\n").arg(path);
    for (const QString &line : std::as_const(converted->unmapped)) {
        text += QStringLiteral("# not imported: ") + line + QLatin1Char('\n');
    }
    // Secrets stay ${VAR} references, so Included renders no plaintext.
    text += QString::fromUtf8(Gateway::Config::toYaml(converted->policy, Gateway::Config::SecretRendering::Included));
    return {true, text};
}

FileResult writePolicyFile(const QString &path, const QByteArray &bytes)
{
    QFile file {path};
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(bytes) != bytes.size()) {
        return {false, file.errorString()};
    }
    return {true, {}};
}

template<typename Done>
void whenFinished(QObject *context, QFuture<FileResult> future, Done done)
{
    auto *watcher = new QFutureWatcher<FileResult>(context);
    QObject::connect(watcher, &QFutureWatcher<FileResult>::finished, context, [watcher, done] {
        done(watcher->result());
        watcher->deleteLater();
    });
    watcher->setFuture(std::move(future));
}

} // namespace

PolicyEditorView::PolicyEditorView(AdminClient &admin, QWidget *parent)
    : QWidget {parent}
    , m_admin {admin}
    , m_editor {new QPlainTextEdit}
    , m_form {new RouteForm}
    , m_diff {new QPlainTextEdit}
    , m_versions {new QTableWidget(0, VersionColumnCount)}
    , m_side {new QTabWidget}
    , m_comment {new QLineEdit}
    , m_apply {new QPushButton(tr("Apply"))}
    , m_rollback {new QPushButton(tr("Roll back to selected"))}
    , m_status {new QLabel}
    , m_validateTimer {new QTimer(this)}
{
    buildLayout();
    m_validateTimer->setSingleShot(true);
    m_validateTimer->setInterval(ValidateDelayMs);
    connect(m_validateTimer, &QTimer::timeout, this, &PolicyEditorView::validateNow);
    connect(m_editor, &QPlainTextEdit::textChanged, this, &PolicyEditorView::onTextChanged);
    connect(m_form, &RouteForm::documentEdited, this, &PolicyEditorView::onFormEdited);
    connect(&m_admin, &AdminClient::policyChanged, this, [this] {
        reloadActive();
        reloadVersions();
    });
    reloadActive();
    reloadVersions();
}

void PolicyEditorView::buildLayout()
{
    const QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    m_editor->setFont(mono);
    m_editor->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_editor->setTabChangesFocus(false);
    m_editor->setAccessibleName(tr("Policy document"));
    m_diff->setFont(mono);
    m_diff->setReadOnly(true);
    m_diff->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_yamlHighlighter = new YamlHighlighter(m_editor->document(), YamlHighlighter::Mode::Yaml, palette());
    m_diffHighlighter = new YamlHighlighter(m_diff->document(), YamlHighlighter::Mode::Diff, palette());

    m_versions->setHorizontalHeaderLabels({tr("Version"), tr("Active"), tr("Created"), tr("Author"), tr("Comment")});
    m_versions->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_versions->setSelectionMode(QAbstractItemView::SingleSelection);
    m_versions->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_versions->verticalHeader()->hide();
    m_versions->horizontalHeader()->setStretchLastSection(true);
    m_versions->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    connect(m_versions, &QTableWidget::itemSelectionChanged, this, &PolicyEditorView::updateRollbackButton);
    m_rollback->setEnabled(false);
    m_rollback->setToolTip(tr("Make the selected version active again (recorded as a rollback event)"));
    connect(m_rollback, &QPushButton::clicked, this, &PolicyEditorView::rollbackSelected);

    auto *versionsPage = new QWidget;
    auto *versionsLayout = new QVBoxLayout(versionsPage);
    versionsLayout->setContentsMargins(0, 0, 0, 0);
    versionsLayout->addWidget(m_versions, 1);
    versionsLayout->addWidget(m_rollback, 0, Qt::AlignRight);
    m_side->addTab(m_diff, tr("Diff against active"));
    m_side->addTab(versionsPage, tr("Versions"));

    auto *splitter = new QSplitter(Qt::Horizontal);
    splitter->addWidget(m_form);
    splitter->addWidget(m_editor);
    splitter->addWidget(m_side);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 3);
    splitter->setStretchFactor(2, 2);
    splitter->setChildrenCollapsible(false);

    auto *reload = new QPushButton(tr("Revert"));
    reload->setToolTip(tr("Discard edits and show the active version"));
    connect(reload, &QPushButton::clicked, this, [this] {
        m_replaceOnReload = true;
        reloadActive();
    });
    auto *importYaml = new QPushButton(tr("Import YAML…"));
    connect(importYaml, &QPushButton::clicked, this, [this] { chooseFile(false, false); });
    auto *importLiteLlm = new QPushButton(tr("Import LiteLLM…"));
    importLiteLlm->setToolTip(tr("Convert a LiteLLM proxy config.yaml; what has no equivalent is listed as comments"));
    connect(importLiteLlm, &QPushButton::clicked, this, [this] { chooseFile(false, true); });
    auto *exportButton = new QPushButton(tr("Export…"));
    exportButton->setToolTip(tr("Save the document in the editor (secrets stay \"***\")"));
    connect(exportButton, &QPushButton::clicked, this, [this] { chooseFile(true, false); });
    m_comment->setPlaceholderText(tr("Comment for this version (what and why)"));
    m_comment->setClearButtonEnabled(true);
    m_apply->setToolTip(tr("Validate, store as a new version and apply it live (Ctrl+Return)"));
    m_apply->setShortcut(QKeySequence {Qt::CTRL | Qt::Key_Return});
    connect(m_apply, &QPushButton::clicked, this, &PolicyEditorView::apply);
    connect(m_comment, &QLineEdit::returnPressed, this, &PolicyEditorView::apply);

    auto *toolbar = new QHBoxLayout;
    toolbar->addWidget(reload);
    toolbar->addWidget(importYaml);
    toolbar->addWidget(importLiteLlm);
    toolbar->addWidget(exportButton);
    toolbar->addSpacing(12);
    toolbar->addWidget(m_comment, 1);
    toolbar->addWidget(m_apply);

    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(toolbar);
    layout->addWidget(splitter, 1);
    layout->addWidget(m_status);
}

void PolicyEditorView::reloadActive()
{
    m_admin.activePolicyYaml(this, [this](const AdminReply &reply) {
        if (!reply.ok()) {
            setStatus(tr("Could not read the active policy: %1").arg(reply.errorMessage()), true);
            return;
        }
        m_active = QString::fromUtf8(reply.body);
        static const QRegularExpression versionLine {QStringLiteral(R"(^# policy version (\d+))")};
        const auto match = versionLine.match(m_active);
        m_activeVersion = match.hasMatch() ? match.captured(1).toLongLong() : 0;
        if (m_replaceOnReload || m_editor->toPlainText() == m_active) {
            const QSignalBlocker blocker {m_editor};
            m_editor->setPlainText(m_active);
            m_replaceOnReload = false;
            m_valid = true;
            m_errorField.clear();
            m_errorLine = 0;
            m_editor->setExtraSelections({});
            m_form->setDocument(m_active);
            m_form->showError({}, {});
            setStatus(m_activeVersion > 0 ? tr("Version %1 is active.").arg(m_activeVersion) : tr("No policy stored yet."),
                      false);
        }
        updateDiff();
        emit activeLoaded();
    });
}

void PolicyEditorView::reloadVersions()
{
    m_admin.listVersions(100, this, [this](const AdminReply &reply) {
        if (!reply.ok()) {
            return;
        }
        const qint64 selected = m_versions->currentRow() >= 0 && m_versions->item(m_versions->currentRow(), IdColumn)
                                    ? m_versions->item(m_versions->currentRow(), IdColumn)->data(Qt::UserRole).toLongLong()
                                    : -1;
        const QJsonArray data = reply.json().value(u"data").toArray();
        m_versions->setRowCount(static_cast<int>(data.size()));
        for (int row = 0; row < data.size(); ++row) {
            const QJsonObject version = data.at(row).toObject();
            const qint64 id = version.value(u"id").toInteger();
            const bool active = version.value(u"active").toBool();
            auto set = [this, row](int column, const QString &text) {
                auto *item = m_versions->item(row, column);
                if (item == nullptr) {
                    item = new QTableWidgetItem;
                    m_versions->setItem(row, column, item);
                }
                item->setText(text);
                return item;
            };
            set(IdColumn, QString::number(id))->setData(Qt::UserRole, id);
            set(ActiveColumn, active ? tr("active") : QString {})->setData(Qt::UserRole, active);
            set(CreatedColumn, QLocale {}.toString(QDateTime::fromMSecsSinceEpoch(version.value(u"created_at_ms").toInteger()),
                                                   QLocale::ShortFormat));
            set(AuthorColumn, version.value(u"author").toString());
            set(CommentColumn, version.value(u"comment").toString());
            if (id == selected) {
                m_versions->selectRow(row);
            }
        }
        updateRollbackButton();
    });
}

void PolicyEditorView::updateRollbackButton()
{
    const int row = m_versions->currentRow();
    const bool selected = row >= 0 && !m_versions->selectedItems().isEmpty() && m_versions->item(row, ActiveColumn) != nullptr;
    m_rollback->setEnabled(selected && !m_versions->item(row, ActiveColumn)->data(Qt::UserRole).toBool());
}

void PolicyEditorView::onTextChanged()
{
    m_valid = false;
    m_validateTimer->start();
}

void PolicyEditorView::onFormEdited(const QString &document)
{
    // Through a cursor rather than setPlainText(), so Ctrl+Z in the text undoes a form edit.
    QTextCursor cursor {m_editor->document()};
    cursor.select(QTextCursor::Document);
    cursor.insertText(document);
}

void PolicyEditorView::updateDiff()
{
    const QString text = m_editor->toPlainText();
    const QString diff = unifiedLineDiff(m_active, text, tr("active version %1").arg(m_activeVersion), tr("editor"));
    m_diff->setPlainText(diff.isEmpty() ? tr("No changes against the active version.") : diff);
}

void PolicyEditorView::validateNow()
{
    m_validateTimer->stop();
    updateDiff();
    // The form follows the text once typing pauses (no re-parse per keystroke); after a
    // form edit nothing it shows has changed, so it keeps focus and cursor.
    m_form->setDocument(m_editor->toPlainText());
    const quint64 generation = ++m_validation;
    m_admin.putPolicy(m_editor->toPlainText().toUtf8(), true, {}, this, [this, generation](const AdminReply &reply) {
        if (generation != m_validation) {
            return; // the text changed since; a newer validation is on its way
        }
        m_valid = reply.ok();
        if (m_valid) {
            m_errorField.clear();
            m_errorLine = 0;
            m_editor->setExtraSelections({});
            m_form->showError({}, {});
            const bool changed = reply.json().value(u"changed").toBool();
            setStatus(changed ? tr("Valid. Apply to store it as a new version.") : tr("Valid; same as the active version."),
                      false);
        } else {
            showError(reply.errorMessage(), reply.errorField());
        }
        emit validated(m_valid);
    });
}

void PolicyEditorView::showError(const QString &message, const QString &field)
{
    m_errorField = field;
    m_errorLine = lineOf(message);
    const QString where = field.isEmpty() ? QString {} : tr("Field %1: ").arg(field);
    setStatus(where + message, true);
    markLine(m_errorLine);
    m_form->showError(field, message);
}

void PolicyEditorView::markLine(int line)
{
    QList<QTextEdit::ExtraSelection> selections;
    const QTextBlock block = m_editor->document()->findBlockByLineNumber(line - 1);
    if (line > 0 && block.isValid()) {
        QTextEdit::ExtraSelection selection;
        QColor background = errorColor(palette());
        background.setAlphaF(0.25f);
        selection.format.setBackground(background);
        selection.format.setProperty(QTextFormat::FullWidthSelection, true);
        selection.cursor = QTextCursor {block};
        selections.append(selection);
    }
    m_editor->setExtraSelections(selections);
}

void PolicyEditorView::setStatus(const QString &text, bool error)
{
    m_status->setText(text);
    QPalette pal = palette();
    if (error) {
        pal.setColor(QPalette::WindowText, errorColor(palette()));
    }
    m_status->setPalette(pal);
}

void PolicyEditorView::apply()
{
    const QByteArray document = m_editor->toPlainText().toUtf8();
    QString comment = m_comment->text().trimmed();
    if (comment.isEmpty()) {
        comment = tr("applied from the console");
    }
    m_apply->setEnabled(false);
    setStatus(tr("Applying…"), false);
    m_admin.putPolicy(document, false, comment, this, [this](const AdminReply &reply) {
        m_apply->setEnabled(true);
        if (!reply.ok()) {
            showError(reply.errorMessage(), reply.errorField());
            emit failed(reply.errorMessage());
            return;
        }
        const QJsonObject body = reply.json();
        const qint64 version = body.value(u"version").toInteger();
        const bool created = body.value(u"created").toBool();
        m_comment->clear();
        // The store renders the document in its canonical form; show that.
        m_replaceOnReload = true;
        QString text = created ? tr("Applied as version %1.").arg(version) : tr("No change: version %1 is already active.").arg(version);
        if (body.value(u"restart_required").toBool()) {
            text += QLatin1Char(' ') + tr("gateway.listen / gateway.threads take effect at the next start.");
        }
        setStatus(text, false);
        if (!created) {
            reloadActive(); // policyChanged() reloads otherwise
        }
        emit applied(version, created);
    });
}

void PolicyEditorView::rollbackSelected()
{
    const int row = m_versions->currentRow();
    if (row < 0 || m_versions->item(row, IdColumn) == nullptr) {
        return;
    }
    const qint64 id = m_versions->item(row, IdColumn)->data(Qt::UserRole).toLongLong();
    m_rollback->setEnabled(false);
    m_admin.rollback(id, tr("rolled back from the console"), this, [this, id](const AdminReply &reply) {
        if (!reply.ok()) {
            setStatus(tr("Rollback failed: %1").arg(reply.errorMessage()), true);
            updateRollbackButton();
            emit failed(reply.errorMessage());
            return;
        }
        m_replaceOnReload = true;
        setStatus(tr("Rolled back: version %1 is active again.").arg(id), false);
        emit rolledBack(id);
    });
}

void PolicyEditorView::chooseFile(bool save, bool liteLlm)
{
    // Non-modal: the GUI keeps updating while the dialog is open.
    auto *dialog = new QFileDialog(this, save ? tr("Export policy") : liteLlm ? tr("Import LiteLLM config") : tr("Import policy"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setAcceptMode(save ? QFileDialog::AcceptSave : QFileDialog::AcceptOpen);
    dialog->setFileMode(save ? QFileDialog::AnyFile : QFileDialog::ExistingFile);
    dialog->setNameFilters({tr("YAML (*.yaml *.yml)"), tr("JSON (*.json)"), tr("All files (*)")});
    if (save) {
        dialog->setDefaultSuffix(QStringLiteral("yaml"));
    }
    connect(dialog, &QFileDialog::fileSelected, this, [this, save, liteLlm](const QString &path) {
        if (save) {
            exportFile(path);
        } else {
            importFile(path, liteLlm);
        }
    });
    dialog->open();
}

void PolicyEditorView::importFile(const QString &path, bool liteLlm)
{
    whenFinished(this, QtConcurrent::run(readPolicyFile, path, liteLlm), [this, path](const FileResult &result) {
        if (!result.ok) {
            setStatus(tr("Could not import %1: %2").arg(path, result.text), true);
            emit failed(result.text);
            return;
        }
        // Imported text is an edit: it is validated and diffed, and applied only on Apply.
        m_editor->setPlainText(result.text);
        validateNow();
    });
}

void PolicyEditorView::exportFile(const QString &path)
{
    whenFinished(this, QtConcurrent::run(writePolicyFile, path, m_editor->toPlainText().toUtf8()),
                 [this, path](const FileResult &result) {
                     setStatus(result.ok ? tr("Exported to %1.").arg(path) : tr("Could not export: %1").arg(result.text),
                               !result.ok);
                 });
}

void PolicyEditorView::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange && m_yamlHighlighter != nullptr) {
        m_yamlHighlighter->setPalette(palette());
        m_diffHighlighter->setPalette(palette());
    }
}

} // namespace Ui
