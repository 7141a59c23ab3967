#include "keysview.h"

#include "admin/adminclient.h"
#include "semanticcolors.h"

#include <QClipboard>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace Ui {

KeysView::KeysView(AdminClient &admin, QWidget *parent)
    : QWidget {parent}
    , m_admin {admin}
    , m_name {new QLineEdit}
    , m_routes {new QLineEdit}
    , m_create {new QPushButton(tr("Create key"))}
    , m_created {new QLineEdit}
    , m_copy {new QPushButton(tr("Copy"))}
    , m_once {new QLabel}
    , m_table {new QTableWidget(0, 2)}
    , m_revoke {new QPushButton(tr("Revoke…"))}
    , m_message {new QLabel}
{
    m_name->setPlaceholderText(tr("e.g. team-a"));
    m_routes->setPlaceholderText(tr("comma-separated routes; empty = all routes"));
    connect(m_create, &QPushButton::clicked, this, &KeysView::create);
    connect(m_name, &QLineEdit::returnPressed, this, &KeysView::create);

    m_created->setReadOnly(true);
    m_created->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_created->setPlaceholderText(tr("The new key appears here, once"));
    m_copy->setEnabled(false);
    connect(m_copy, &QPushButton::clicked, this, [this] {
        QGuiApplication::clipboard()->setText(m_created->text());
        m_copy->setText(tr("Copied"));
    });
    m_once->setWordWrap(true);

    auto *form = new QFormLayout;
    form->addRow(tr("Name:"), m_name);
    form->addRow(tr("Routes:"), m_routes);
    auto *createdRow = new QHBoxLayout;
    createdRow->addWidget(m_created, 1);
    createdRow->addWidget(m_copy);
    form->addRow(QString {}, m_create);
    form->addRow(tr("New key:"), createdRow);
    form->addRow(QString {}, m_once);
    auto *createBox = new QGroupBox(tr("New virtual key"));
    createBox->setLayout(form);

    m_table->setHorizontalHeaderLabels({tr("Name"), tr("Routes")});
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_revoke->setEnabled(false);
    connect(m_table, &QTableWidget::itemSelectionChanged, this,
            [this] { m_revoke->setEnabled(!m_table->selectedItems().isEmpty()); });
    connect(m_revoke, &QPushButton::clicked, this, &KeysView::confirmRevoke);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(createBox);
    layout->addWidget(m_table, 1);
    auto *bottom = new QHBoxLayout;
    bottom->addWidget(m_message, 1);
    bottom->addWidget(m_revoke);
    layout->addLayout(bottom);

    connect(&m_admin, &AdminClient::policyChanged, this, &KeysView::reload);
    reload();
}

void KeysView::reload()
{
    m_admin.listKeys(this, [this](const AdminReply &reply) {
        if (!reply.ok()) {
            setMessage(tr("Could not list keys: %1").arg(reply.errorMessage()), true);
            return;
        }
        const QString selected = m_table->selectedItems().isEmpty() ? QString {} : m_table->item(m_table->currentRow(), 0)->text();
        const QJsonArray data = reply.json().value(u"data").toArray();
        m_table->setRowCount(static_cast<int>(data.size()));
        for (int row = 0; row < data.size(); ++row) {
            const QJsonObject key = data.at(row).toObject();
            QStringList routes;
            for (const QJsonValue &route : key.value(u"routes").toArray()) {
                routes.append(route.toString());
            }
            const QString name = key.value(u"name").toString();
            for (int column = 0; column < 2; ++column) {
                if (m_table->item(row, column) == nullptr) {
                    m_table->setItem(row, column, new QTableWidgetItem);
                }
            }
            m_table->item(row, 0)->setText(name);
            m_table->item(row, 1)->setText(routes.isEmpty() ? tr("all routes") : routes.join(QStringLiteral(", ")));
            if (name == selected) {
                m_table->selectRow(row);
            }
        }
        emit keysLoaded();
    });
}

void KeysView::create()
{
    const QString name = m_name->text().trimmed();
    if (name.isEmpty()) {
        setMessage(tr("A key needs a name."), true);
        return;
    }
    QStringList routes;
    for (const QString &route : m_routes->text().split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        if (!route.trimmed().isEmpty()) {
            routes.append(route.trimmed());
        }
    }
    m_create->setEnabled(false);
    m_admin.createKey(name, routes, this, [this, name](const AdminReply &reply) {
        m_create->setEnabled(true);
        if (!reply.ok()) {
            setMessage(tr("Could not create %1: %2").arg(name, reply.errorMessage()), true);
            emit failed(reply.errorMessage());
            return;
        }
        m_created->setText(reply.json().value(u"key").toString());
        m_copy->setEnabled(true);
        m_copy->setText(tr("Copy"));
        m_once->setText(tr("Copy the key for %1 now: the store keeps only its digest, so it cannot be shown again.").arg(name));
        m_name->clear();
        m_routes->clear();
        setMessage(tr("Created %1 (policy version %2).").arg(name).arg(reply.json().value(u"version").toInteger()), false);
        emit keyCreated(name);
    });
}

void KeysView::confirmRevoke()
{
    if (m_table->selectedItems().isEmpty()) {
        return;
    }
    const QString name = m_table->item(m_table->currentRow(), 0)->text();
    // Non-modal confirmation: the console keeps refreshing while it is open.
    auto *box = new QMessageBox(QMessageBox::Warning, tr("Revoke key"),
                                tr("Revoke %1? Clients using it get 401 from the next request on.").arg(name),
                                QMessageBox::Yes | QMessageBox::Cancel, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    connect(box, &QMessageBox::finished, this, [this, name](int result) {
        if (result == QMessageBox::Yes) {
            revoke(name);
        }
    });
    box->open();
}

void KeysView::revoke(const QString &name)
{
    m_admin.revokeKey(name, this, [this, name](const AdminReply &reply) {
        if (!reply.ok()) {
            setMessage(tr("Could not revoke %1: %2").arg(name, reply.errorMessage()), true);
            emit failed(reply.errorMessage());
            return;
        }
        setMessage(tr("Revoked %1.").arg(name), false);
        emit keyRevoked(name);
    });
}

void KeysView::setMessage(const QString &text, bool error)
{
    m_message->setText(text);
    QPalette pal = palette();
    if (error) {
        pal.setColor(QPalette::WindowText, errorColor(palette()));
    }
    m_message->setPalette(pal);
}

} // namespace Ui
