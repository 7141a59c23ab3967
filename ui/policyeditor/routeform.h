#pragma once

#include "routedocument.h"

#include <QHash>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QTableWidget;

namespace Ui {

// The structured side of the policy editor: the routes of the document, and for the
// selected one its strategy and parameters, targets (provider, model, weight and the
// concurrency limit max_concurrency), fallbacks and retry attempts. It edits the same document as the YAML text: an edit
// produces the patched document (documentEdited), and a changed document refreshes the
// form. It never judges values: the editor's dry run through the store does, and
// showError() marks the field the error names.
class RouteForm final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RouteForm)

public:
    explicit RouteForm(QWidget *parent = nullptr);

    // Shows the routes of `yaml`; keeps the selected route. Ignored while the text does
    // not parse as YAML with routes (the form keeps its last state, disabled).
    void setDocument(const QString &yaml);
    // Marks the widget of `field` (e.g. "routes[0].targets[1].weight") and shows the
    // message under the form; an empty field clears the marks.
    void showError(const QString &field, const QString &message);

    // For tests.
    QListWidget *routeList() const { return m_routes; }
    QComboBox *strategyBox() const { return m_strategy; }
    QTableWidget *targetsTable() const { return m_targets; }
    QLineEdit *lineEdit(const QString &key) const { return m_edits.value(key); } // "model", "strategy_options", "fallbacks", "retry.attempts"
    QLabel *errorLabel() const { return m_error; }
    // The field the form marks now, e.g. "routes[0].targets[1].weight"; empty if none.
    QString markedField() const { return m_markedField; }

signals:
    void documentEdited(const QString &yaml);

private:
    void showRoute(int index);
    void commit(); // the widgets' values into the document
    RouteFields fieldsFromWidgets() const;
    void addTarget();
    void removeTarget();
    void clearMarks();

    QListWidget *m_routes;
    QComboBox *m_strategy;
    QTableWidget *m_targets;
    QHash<QString, QLineEdit *> m_edits;
    QLabel *m_error;
    QString m_document;
    QList<RouteFields> m_fields;
    int m_current = -1;
    bool m_filling = false; // widgets being set from the document, not edited
    QString m_markedField;
};

} // namespace Ui
