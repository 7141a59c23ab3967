#pragma once

#include <QWidget>

#include <functional>

class QLabel;
class QLineEdit;
class QPushButton;
class QTableWidget;

namespace Ui {

class AdminClient;

// Virtual keys: create one (its secret is shown once, with a copy button), list them,
// revoke one. Each change is a policy version, made by the store on its thread.
class KeysView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(KeysView)

public:
    explicit KeysView(AdminClient &admin, QWidget *parent = nullptr);

    QLineEdit *nameEdit() const { return m_name; }
    QLineEdit *routesEdit() const { return m_routes; }
    QPushButton *createButton() const { return m_create; }
    QLineEdit *createdKeyField() const { return m_created; }
    QTableWidget *table() const { return m_table; }

    void reload();
    void create();
    // Revokes without asking; the Revoke button asks first.
    void revoke(const QString &name);

signals:
    void keysLoaded();
    void keyCreated(const QString &name);
    void keyRevoked(const QString &name);
    void failed(const QString &message);

private:
    void confirmRevoke();
    void setMessage(const QString &text, bool error);

    AdminClient &m_admin;
    QLineEdit *m_name;
    QLineEdit *m_routes;
    QPushButton *m_create;
    QLineEdit *m_created;
    QPushButton *m_copy;
    QLabel *m_once;
    QTableWidget *m_table;
    QPushButton *m_revoke;
    QLabel *m_message;
};

} // namespace Ui
