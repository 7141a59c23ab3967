#include "routeform.h"

#include "semanticcolors.h"

#include "config/policy.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QRegularExpression>
#include <QTableWidget>
#include <QVBoxLayout>

namespace Ui {

namespace {

enum TargetColumn { ProviderColumn, ModelColumn, WeightColumn, MaxConcurrencyColumn, TargetColumnCount };

// The line edits, by the field path below routes[i] that the loader's errors use.
struct EditSpec {
    const char *key;
    const char *label;
    const char *placeholder;
};
constexpr EditSpec Edits[] {
    {"model", "Route (model name)", ""},
    {"strategy_options", "Strategy options", "{}  e.g. {interval_ms: 2000, exploration: 0.05}"},
    {"fallbacks", "Fallback routes", "none  (comma-separated route names)"},
    {"retry.attempts", "Retry attempts", "3"},
};

QColor markColor(const QPalette &palette)
{
    QColor color = errorColor(palette);
    color.setAlphaF(0.3f);
    return color;
}

} // namespace

RouteForm::RouteForm(QWidget *parent)
    : QWidget {parent}
    , m_routes {new QListWidget}
    , m_strategy {new QComboBox}
    , m_targets {new QTableWidget(0, TargetColumnCount)}
    , m_error {new QLabel}
{
    m_routes->setAccessibleName(tr("Routes"));
    m_routes->setMaximumHeight(120);
    connect(m_routes, &QListWidget::currentRowChanged, this, &RouteForm::showRoute);

    // The loader's own list of strategies: the form offers what the store accepts.
    m_strategy->addItems(Gateway::Config::strategyNames());
    connect(m_strategy, &QComboBox::activated, this, &RouteForm::commit);

    m_targets->setHorizontalHeaderLabels({tr("Provider"), tr("Model"), tr("Weight"), tr("Max concurrency")});
    m_targets->horizontalHeaderItem(MaxConcurrencyColumn)
        ->setToolTip(tr("The route's concurrency limit: requests each server takes at once, beyond that they queue "
                        "(empty = uncapped)"));
    m_targets->verticalHeader()->hide();
    m_targets->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_targets->horizontalHeader()->setSectionResizeMode(WeightColumn, QHeaderView::ResizeToContents);
    m_targets->horizontalHeader()->setSectionResizeMode(MaxConcurrencyColumn, QHeaderView::ResizeToContents);
    m_targets->setSelectionBehavior(QAbstractItemView::SelectRows);
    connect(m_targets, &QTableWidget::itemChanged, this, &RouteForm::commit);
    auto *addTargetButton = new QPushButton(tr("Add target"));
    auto *removeTargetButton = new QPushButton(tr("Remove target"));
    connect(addTargetButton, &QPushButton::clicked, this, &RouteForm::addTarget);
    connect(removeTargetButton, &QPushButton::clicked, this, &RouteForm::removeTarget);
    auto *targetButtons = new QHBoxLayout;
    targetButtons->addWidget(addTargetButton);
    targetButtons->addWidget(removeTargetButton);
    targetButtons->addStretch(1);

    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    for (const EditSpec &spec : Edits) {
        auto *edit = new QLineEdit;
        edit->setPlaceholderText(tr(spec.placeholder));
        edit->setAccessibleName(tr(spec.label));
        // Committed when the operator leaves the field or presses Return, not per keystroke:
        // half-typed values would each become a document and a dry run.
        connect(edit, &QLineEdit::editingFinished, this, &RouteForm::commit);
        m_edits.insert(QString::fromLatin1(spec.key), edit);
        if (QByteArrayView {spec.key} == "strategy_options") {
            form->addRow(tr("Strategy"), m_strategy);
        }
        form->addRow(tr(spec.label), edit);
        if (QByteArrayView {spec.key} == "strategy_options") {
            form->addRow(tr("Targets"), m_targets);
            form->addRow(QString {}, targetButtons);
        }
    }

    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new QLabel(tr("Routes")));
    layout->addWidget(m_routes);
    layout->addLayout(form, 1);
    layout->addWidget(m_error);
    setEnabled(false);
}

void RouteForm::setDocument(const QString &yaml)
{
    m_document = yaml;
    const auto routes = routesOf(yaml);
    setEnabled(routes.has_value());
    if (!routes) {
        return;
    }
    if (*routes == m_fields) {
        return; // nothing the form shows changed: keep focus and cursor where they are
    }
    m_fields = *routes;
    const int keep = m_current;
    m_filling = true;
    m_routes->clear();
    for (const RouteFields &route : std::as_const(m_fields)) {
        m_routes->addItem(route.model.isEmpty() ? tr("(unnamed route)") : route.model);
    }
    m_filling = false;
    const int count = static_cast<int>(m_fields.size());
    const int row = count == 0 ? -1 : std::clamp(keep, 0, count - 1);
    m_routes->setCurrentRow(row); // may not change the row: fill explicitly
    showRoute(row);
}

void RouteForm::showRoute(int index)
{
    if (m_filling) {
        return;
    }
    m_current = index;
    m_filling = true;
    const RouteFields route = index >= 0 && index < m_fields.size() ? m_fields.at(index) : RouteFields {};
    const int strategy = m_strategy->findText(route.strategy.isEmpty() ? QStringLiteral("weighted") : route.strategy);
    m_strategy->setCurrentIndex(strategy);
    m_targets->setRowCount(static_cast<int>(route.targets.size()));
    for (int row = 0; row < route.targets.size(); ++row) {
        const RouteFields::Target &target = route.targets.at(row);
        const QString values[] {target.provider, target.model, target.weight, target.maxConcurrency};
        for (int column = 0; column < TargetColumnCount; ++column) {
            m_targets->setItem(row, column, new QTableWidgetItem(values[column]));
        }
    }
    const QHash<QString, QString> values {
        {QStringLiteral("model"), route.model},
        {QStringLiteral("strategy_options"), route.strategyOptions},
        {QStringLiteral("fallbacks"), route.fallbacks},
        {QStringLiteral("retry.attempts"), route.retryAttempts},
    };
    for (auto it = m_edits.cbegin(); it != m_edits.cend(); ++it) {
        it.value()->setText(values.value(it.key()));
    }
    m_filling = false;
    // Marks belong to the route they were made for.
    const QString marked = m_markedField;
    const QString message = m_error->text();
    clearMarks();
    if (!marked.isEmpty()) {
        showError(marked, message);
    }
}

RouteFields RouteForm::fieldsFromWidgets() const
{
    RouteFields route;
    route.model = m_edits.value(QStringLiteral("model"))->text();
    route.strategy = m_strategy->currentText();
    route.strategyOptions = m_edits.value(QStringLiteral("strategy_options"))->text();
    for (int row = 0; row < m_targets->rowCount(); ++row) {
        auto text = [this, row](int column) {
            const QTableWidgetItem *item = m_targets->item(row, column);
            return item != nullptr ? item->text() : QString {};
        };
        route.targets.append({text(ProviderColumn), text(ModelColumn), text(WeightColumn), text(MaxConcurrencyColumn)});
    }
    route.fallbacks = m_edits.value(QStringLiteral("fallbacks"))->text();
    route.retryAttempts = m_edits.value(QStringLiteral("retry.attempts"))->text();
    return route;
}

void RouteForm::commit()
{
    if (m_filling || m_current < 0 || m_current >= m_fields.size()) {
        return;
    }
    RouteFields route = fieldsFromWidgets();
    // The strategy combo shows "weighted" for a route that names none; leave it unnamed.
    if (m_fields.at(m_current).strategy.isEmpty() && route.strategy == QStringLiteral("weighted")) {
        route.strategy.clear();
    }
    if (route == m_fields.at(m_current)) {
        return;
    }
    const auto document = withRoute(m_document, m_current, route);
    if (!document) {
        return;
    }
    m_fields[m_current] = route;
    m_document = *document;
    if (m_routes->item(m_current) != nullptr) {
        m_routes->item(m_current)->setText(route.model);
    }
    emit documentEdited(*document);
}

void RouteForm::addTarget()
{
    const int row = m_targets->rowCount();
    m_filling = true;
    m_targets->insertRow(row);
    for (int column = 0; column < TargetColumnCount; ++column) {
        m_targets->setItem(row, column, new QTableWidgetItem);
    }
    m_filling = false;
    m_targets->setCurrentCell(row, ProviderColumn);
    m_targets->editItem(m_targets->item(row, ProviderColumn));
    // Committed once the provider is typed (itemChanged): an empty target would only fail.
}

void RouteForm::removeTarget()
{
    const int row = m_targets->currentRow();
    if (row < 0) {
        return;
    }
    m_targets->removeRow(row);
    commit();
}

void RouteForm::clearMarks()
{
    m_markedField.clear();
    m_error->clear();
    for (QLineEdit *edit : std::as_const(m_edits)) {
        edit->setPalette({});
    }
    m_strategy->setPalette({});
    m_filling = true;
    for (int row = 0; row < m_targets->rowCount(); ++row) {
        for (int column = 0; column < TargetColumnCount; ++column) {
            if (QTableWidgetItem *item = m_targets->item(row, column)) {
                item->setBackground({});
            }
        }
    }
    m_filling = false;
}

void RouteForm::showError(const QString &field, const QString &message)
{
    clearMarks();
    if (field.isEmpty()) {
        return;
    }
    m_markedField = field;
    QPalette errorPalette = palette();
    errorPalette.setColor(QPalette::WindowText, errorColor(palette()));
    m_error->setPalette(errorPalette);
    m_error->setText(message.contains(field) ? message : tr("%1: %2").arg(field, message));

    // Only fields of the route on show get a mark; the message names the others.
    static const QRegularExpression routeField {QStringLiteral(R"(^routes\[(\d+)\]\.(.+)$)")};
    const auto match = routeField.match(field);
    if (!match.hasMatch() || match.captured(1).toInt() != m_current) {
        return;
    }
    const QString rest = match.captured(2);
    QPalette marked = palette();
    marked.setColor(QPalette::Base, markColor(palette()));
    marked.setColor(QPalette::Button, markColor(palette()));
    static const QRegularExpression targetField {QStringLiteral(R"(^targets\[(\d+)\](?:\.(\w+))?)")};
    if (const auto target = targetField.match(rest); target.hasMatch()) {
        const int row = target.captured(1).toInt();
        const QString key = target.captured(2);
        const int column = key == u"provider"          ? ProviderColumn
                         : key == u"model"             ? ModelColumn
                         : key == u"weight"            ? WeightColumn
                         : key == u"max_concurrency"   ? MaxConcurrencyColumn
                                                       : -1;
        m_filling = true;
        for (int c = 0; c < TargetColumnCount; ++c) {
            if (QTableWidgetItem *item = m_targets->item(row, c); item != nullptr && (column < 0 || c == column)) {
                item->setBackground(markColor(palette()));
            }
        }
        m_filling = false;
        return;
    }
    if (rest == u"strategy") {
        m_strategy->setPalette(marked);
        return;
    }
    // The longest key the field starts with, e.g. "strategy_options.interval_ms" marks
    // the strategy options.
    QString best;
    for (auto it = m_edits.cbegin(); it != m_edits.cend(); ++it) {
        if ((rest == it.key() || rest.startsWith(it.key() + QLatin1Char('.')) || rest.startsWith(it.key() + QLatin1Char('[')))
            && it.key().size() > best.size()) {
            best = it.key();
        }
    }
    if (!best.isEmpty()) {
        m_edits.value(best)->setPalette(marked);
    }
}

} // namespace Ui
