#pragma once

#include <QWidget>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;
class QTabWidget;
class QTimer;

namespace Ui {

class AdminClient;
class RouteForm;
class YamlHighlighter;

// The policy as a YAML document, with a structured form of its routes beside the text
// (both edit the same document): edit it with inline validation (a dry run through the
// store, the same validation an apply runs; the error names the field and its line is
// marked), see the diff against the active version, Apply (a new version with a
// comment), roll back to an older version, import YAML or a LiteLLM config, export.
// Every store call is asynchronous; files are read and written off the GUI thread.
class PolicyEditorView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(PolicyEditorView)

public:
    static constexpr int ValidateDelayMs = 400;

    explicit PolicyEditorView(AdminClient &admin, QWidget *parent = nullptr);

    // For tests and shortcuts.
    QPlainTextEdit *editor() const { return m_editor; }
    RouteForm *form() const { return m_form; }
    QLineEdit *commentEdit() const { return m_comment; }
    QPushButton *applyButton() const { return m_apply; }
    QPushButton *rollbackButton() const { return m_rollback; }
    QTableWidget *versionsTable() const { return m_versions; }
    QLabel *validationLabel() const { return m_status; }
    QPlainTextEdit *diffView() const { return m_diff; }
    QString activeDocument() const { return m_active; }
    // Whether the last validation found the editor's document valid.
    bool isValid() const { return m_valid; }
    // The field named by the last validation error, e.g. routes[0].targets[1].weight.
    QString errorField() const { return m_errorField; }
    int errorLine() const { return m_errorLine; }

    void reloadActive();
    void validateNow();
    void apply();
    void rollbackSelected();
    void importFile(const QString &path, bool liteLlm);
    void exportFile(const QString &path);

signals:
    void activeLoaded();
    void validated(bool valid);
    void applied(qint64 version, bool created);
    void rolledBack(qint64 version);
    void failed(const QString &message);

protected:
    void changeEvent(QEvent *event) override;

private:
    void buildLayout();
    void onTextChanged();
    void onFormEdited(const QString &document);
    void updateDiff();
    void reloadVersions();
    void showError(const QString &message, const QString &field);
    void markLine(int line);
    void setStatus(const QString &text, bool error);
    void chooseFile(bool save, bool liteLlm);
    void updateRollbackButton();

    AdminClient &m_admin;
    QPlainTextEdit *m_editor;
    RouteForm *m_form;
    QPlainTextEdit *m_diff;
    QTableWidget *m_versions;
    QTabWidget *m_side;
    QLineEdit *m_comment;
    QPushButton *m_apply;
    QPushButton *m_rollback;
    QLabel *m_status;
    QTimer *m_validateTimer;
    YamlHighlighter *m_yamlHighlighter = nullptr;
    YamlHighlighter *m_diffHighlighter = nullptr;

    QString m_active;          // the active version's YAML, the diff's base
    qint64 m_activeVersion = 0;
    quint64 m_validation = 0;  // generation: answers to older validations are ignored
    bool m_valid = false;
    bool m_replaceOnReload = true; // the editor holds no edits of its own
    QString m_errorField;
    int m_errorLine = 0;
};

} // namespace Ui
