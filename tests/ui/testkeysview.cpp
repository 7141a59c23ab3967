// Keys created in the console authenticate real requests through the gateway; revoked
// ones stop working.

#include "storegateway.h"

#include "admin/adminclient.h"
#include "keys/keysview.h"

#include "policyservice.h"

#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTest>

class TestKeysView final : public QObject {
    Q_OBJECT

private slots:
    void createdKeyAuthenticatesARealRequest();
};

void TestKeysView::createdKeyAuthenticatesARealRequest()
{
    UiTest::StoreGateway env;
    QVERIFY(env.start());
    Ui::AdminClient admin {env.store()};
    Ui::KeysView view {admin};
    view.show();
    QTRY_COMPARE(view.table()->rowCount(), 0);
    QCOMPARE(env.chat("chat").status, 200); // no keys yet: open on loopback

    QSignalSpy created {&view, &Ui::KeysView::keyCreated};
    QTest::keyClicks(view.nameEdit(), QStringLiteral("team-a"));
    QTest::keyClicks(view.routesEdit(), QStringLiteral("chat"));
    view.createButton()->click();
    QTRY_COMPARE(created.count(), 1);
    const QByteArray key = view.createdKeyField()->text().toUtf8();
    QVERIFY(key.startsWith("sk-sy-"));
    QTRY_COMPARE(view.table()->rowCount(), 1);
    QCOMPARE(view.table()->item(0, 0)->text(), QStringLiteral("team-a"));
    QVERIFY(!view.table()->item(0, 1)->text().contains(QString::fromUtf8(key)));

    QCOMPARE(env.chat("chat", key).status, 200);
    QCOMPARE(env.chat("chat", "sk-sy-not-a-key").status, 401);
    QCOMPARE(env.chat("chat").status, 401);

    // A second key with the same name is refused and shows why.
    QSignalSpy failed {&view, &Ui::KeysView::failed};
    QTest::keyClicks(view.nameEdit(), QStringLiteral("team-a"));
    view.createButton()->click();
    QTRY_COMPARE(failed.count(), 1);

    QSignalSpy revoked {&view, &Ui::KeysView::keyRevoked};
    view.revoke(QStringLiteral("team-a"));
    QTRY_COMPARE(revoked.count(), 1);
    QTRY_COMPARE(view.table()->rowCount(), 0);
    QCOMPARE(env.versionCount(), 3); // create and revoke each made a version
}

QTEST_MAIN(TestKeysView)
#include "testkeysview.moc"
