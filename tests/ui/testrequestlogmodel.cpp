// The request log model pages through the store's query instead of loading the table.

#include "storegateway.h"

#include "admin/adminclient.h"
#include "admin/requestlogtail.h"
#include "requestlog/requestlogmodel.h"

#include "logwriter.h"
#include "policyservice.h"

#include <QSignalSpy>
#include <QTest>

class TestRequestLogModel final : public QObject {
    Q_OBJECT

private slots:
    void fetchesPagesAndNewRows();
};

void TestRequestLogModel::fetchesPagesAndNewRows()
{
    UiTest::StoreGateway env;
    QVERIFY(env.start());
    for (int i = 0; i < 7; ++i) {
        QCOMPARE(env.chat("chat").status, 200);
    }
    QCOMPARE(env.chat("missing").status, 404);
    env.log().flush();

    Ui::AdminClient admin {env.store()};
    Ui::RequestLogModel model {admin};
    // No QAbstractItemModelTester here: its checks call fetchMore() on every change,
    // which would load pages this test counts.
    model.setPageSize(3);
    model.setFilter({});
    QVERIFY(model.canFetchMore({}));
    model.fetchMore({});
    QTRY_COMPARE(model.rowCount(), 3);
    QCOMPARE(model.index(0, Ui::RequestLogModel::StatusColumn).data().toInt(), 404); // newest first
    QCOMPARE(model.index(0, Ui::RequestLogModel::RouteColumn).data().toString(), QStringLiteral("missing"));
    model.fetchMore({});
    QTRY_COMPARE(model.rowCount(), 6);
    model.fetchMore({});
    QTRY_COMPARE(model.rowCount(), 8);
    QTRY_VERIFY(!model.canFetchMore({}));

    // New requests appear on top without a reset.
    QSignalSpy reset {&model, &QAbstractItemModel::modelReset};
    QCOMPARE(env.chat("chat").status, 200);
    env.log().flush();
    model.refresh();
    QTRY_COMPARE(model.rowCount(), 9);
    QCOMPARE(reset.count(), 0);
    QCOMPARE(model.index(0, Ui::RequestLogModel::BackendColumn).data().toString().isEmpty(), false);

    // A filter runs in the store's query.
    Gateway::Admin::RequestFilter only404;
    only404.status = 404;
    model.setFilter(only404);
    model.fetchMore({});
    QTRY_COMPARE(model.rowCount(), 1);

    // The tail reports each row once, oldest first.
    Ui::RequestLogTail tail {admin, 0};
    QSignalSpy arrived {&tail, &Ui::RequestLogTail::rowsArrived};
    tail.pollNow();
    QTRY_COMPARE(arrived.count(), 1);
    QCOMPARE(arrived.first().at(0).value<QList<QJsonObject>>().size(), 9);
    QCOMPARE(env.chat("chat").status, 200);
    env.log().flush();
    // pollNow() ignores calls while a poll is in flight, so keep asking until one lands.
    QTRY_VERIFY([&] {
        tail.pollNow();
        return arrived.count() == 2;
    }());
    QCOMPARE(arrived.last().at(0).value<QList<QJsonObject>>().size(), 1);
}

QTEST_MAIN(TestRequestLogModel)
#include "testrequestlogmodel.moc"
