#include "routetablemodel.h"

#include "runtime/statussnapshot.h"

#include <QAbstractItemModelTester>
#include <QPersistentModelIndex>
#include <QSignalSpy>
#include <QTest>

namespace {

Gateway::BackendStatus backend(const QString &id, qint64 requests)
{
    Gateway::BackendStatus status;
    status.id = id;
    status.provider = id.section(QLatin1Char('/'), 0, 0);
    status.providerType = QStringLiteral("vllm");
    status.model = id.section(QLatin1Char('/'), 1).toUtf8();
    status.requests = requests;
    status.requestsPerSecond = static_cast<double>(requests) / 10;
    status.latency = {120, 480};
    status.ttft = {40, 90};
    return status;
}

Gateway::RouteStatus route(const QByteArray &model, std::vector<int> backendIndexes)
{
    Gateway::RouteStatus status;
    status.model = model;
    status.strategy = QStringLiteral("least-request");
    for (const int index : backendIndexes) {
        status.targets.push_back({index, 1, 1.0 / static_cast<double>(backendIndexes.size())});
    }
    return status;
}

// Two routes: chat -> {a, b}, embed -> {c}.
Gateway::StatusSnapshot baseSnapshot()
{
    Gateway::StatusSnapshot snapshot;
    snapshot.baseUrl = QStringLiteral("http://127.0.0.1:8420/v1");
    snapshot.backends = {backend(QStringLiteral("local/a"), 10), backend(QStringLiteral("local/b"), 20),
                         backend(QStringLiteral("cloud/c"), 30)};
    snapshot.routes = {route("chat", {0, 1}), route("embed", {2})};
    snapshot.routes[0].requests = 30;
    return snapshot;
}

struct Spies {
    explicit Spies(QAbstractItemModel *model)
        : reset {model, &QAbstractItemModel::modelReset}
        , inserted {model, &QAbstractItemModel::rowsInserted}
        , removed {model, &QAbstractItemModel::rowsRemoved}
        , changed {model, &QAbstractItemModel::dataChanged}
        , layout {model, &QAbstractItemModel::layoutChanged}
    {
    }

    QSignalSpy reset;
    QSignalSpy inserted;
    QSignalSpy removed;
    QSignalSpy changed;
    QSignalSpy layout;
};

} // namespace

class TestRouteTableModel final : public QObject {
    Q_OBJECT

private slots:
    void populatesRoutesWithTargets() const;
    void numbersOnlyEmitDataChanged() const;
    void unchangedSnapshotEmitsNothing() const;
    void addedRouteIsInserted() const;
    void addedTargetIsInsertedUnderItsRoute() const;
    void removedRouteIsRemoved() const;
    void childIndexesSurviveRouteInsertedAbove() const;
    void exposesShareForTargetsOnly() const;
    void showsCacheFiguresOfCachedRoutes() const;
    void showsPrefillDecodePoolsAndSplits() const;
};

void TestRouteTableModel::populatesRoutesWithTargets() const
{
    Ui::RouteTableModel model;
    QAbstractItemModelTester tester {&model, QAbstractItemModelTester::FailureReportingMode::QtTest};
    model.update(baseSnapshot());

    QCOMPARE(model.rowCount(), 2);
    const QModelIndex chat = model.index(0, 0);
    QCOMPARE(chat.data().toString(), QStringLiteral("chat"));
    QCOMPARE(model.rowCount(chat), 2);
    QCOMPARE(model.index(1, 0, chat).data().toString(), QStringLiteral("local/b"));
    QCOMPARE(model.index(1, Ui::RouteTableModel::TypeColumn, chat).data().toString(), QStringLiteral("vllm"));
    QCOMPARE(model.index(1, Ui::RouteTableModel::RequestsColumn, chat).data().toString(), QLocale {}.toString(20));
    QCOMPARE(model.rowCount(model.index(1, 0)), 1);
    QCOMPARE(model.index(1, Ui::RouteTableModel::HealthColumn, chat).data().toString(), QStringLiteral("healthy"));

    // The health column follows the routing engine's state machine.
    Gateway::StatusSnapshot changed = baseSnapshot();
    changed.backends[1].health = QStringLiteral("failed");
    changed.backends[0].health = QStringLiteral("recovering");
    changed.backends[0].healthWeight = 0.4;
    model.update(changed);
    QCOMPARE(model.index(1, Ui::RouteTableModel::HealthColumn, chat).data().toString(), QStringLiteral("circuit open"));
    QVERIFY(model.index(0, Ui::RouteTableModel::HealthColumn, chat).data().toString().startsWith(QStringLiteral("recovering")));
    QVERIFY(model.index(1, Ui::RouteTableModel::HealthColumn, chat).data(Qt::ForegroundRole).isValid());
    QVERIFY(model.index(0, Ui::RouteTableModel::HealthColumn).data().toString().isEmpty()); // route rows
}

void TestRouteTableModel::numbersOnlyEmitDataChanged() const
{
    Ui::RouteTableModel model;
    QAbstractItemModelTester tester {&model, QAbstractItemModelTester::FailureReportingMode::QtTest};
    Gateway::StatusSnapshot snapshot = baseSnapshot();
    model.update(snapshot);
    const QPersistentModelIndex target = model.index(1, 0, model.index(0, 0));

    Spies spies {&model};
    snapshot.backends[1].requests = 25;
    snapshot.backends[1].inFlight = 3;
    snapshot.routes[0].requests = 35;
    model.update(snapshot);

    QCOMPARE(spies.reset.count(), 0);
    QCOMPARE(spies.layout.count(), 0);
    QCOMPARE(spies.inserted.count(), 0);
    QCOMPARE(spies.removed.count(), 0);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.rowCount(model.index(0, 0)), 2);
    // One signal for the chat row, one for its second target; nothing else moved.
    QCOMPARE(spies.changed.count(), 2);
    QVERIFY(target.isValid());
    QCOMPARE(model.index(target.row(), Ui::RouteTableModel::InFlightColumn, target.parent()).data().toString(),
             QStringLiteral("3"));
}

void TestRouteTableModel::unchangedSnapshotEmitsNothing() const
{
    Ui::RouteTableModel model;
    model.update(baseSnapshot());
    Spies spies {&model};
    model.update(baseSnapshot());
    QCOMPARE(spies.changed.count(), 0);
    QCOMPARE(spies.inserted.count(), 0);
    QCOMPARE(spies.removed.count(), 0);
    QCOMPARE(spies.reset.count(), 0);
}

void TestRouteTableModel::addedRouteIsInserted() const
{
    Ui::RouteTableModel model;
    QAbstractItemModelTester tester {&model, QAbstractItemModelTester::FailureReportingMode::QtTest};
    Gateway::StatusSnapshot snapshot = baseSnapshot();
    model.update(snapshot);

    Spies spies {&model};
    snapshot.routes.insert(snapshot.routes.begin() + 1, route("code", {0}));
    model.update(snapshot);

    QCOMPARE(spies.reset.count(), 0);
    QCOMPARE(spies.removed.count(), 0);
    QCOMPARE(spies.inserted.count(), 1);
    const QList<QVariant> args = spies.inserted.takeFirst();
    QVERIFY(!args.at(0).value<QModelIndex>().isValid());
    QCOMPARE(args.at(1).toInt(), 1);
    QCOMPARE(args.at(2).toInt(), 1);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.index(1, 0).data().toString(), QStringLiteral("code"));
    QCOMPARE(model.rowCount(model.index(1, 0)), 1);
    QCOMPARE(model.index(2, 0).data().toString(), QStringLiteral("embed"));
}

void TestRouteTableModel::addedTargetIsInsertedUnderItsRoute() const
{
    Ui::RouteTableModel model;
    QAbstractItemModelTester tester {&model, QAbstractItemModelTester::FailureReportingMode::QtTest};
    Gateway::StatusSnapshot snapshot = baseSnapshot();
    model.update(snapshot);

    Spies spies {&model};
    snapshot.routes[1].targets.push_back({0, 1, 0.5});
    model.update(snapshot);

    QCOMPARE(spies.reset.count(), 0);
    QCOMPARE(spies.removed.count(), 0);
    QCOMPARE(spies.inserted.count(), 1);
    const QList<QVariant> args = spies.inserted.takeFirst();
    QCOMPARE(args.at(0).value<QModelIndex>(), model.index(1, 0));
    QCOMPARE(args.at(1).toInt(), 1);
    QCOMPARE(model.rowCount(model.index(1, 0)), 2);
}

void TestRouteTableModel::removedRouteIsRemoved() const
{
    Ui::RouteTableModel model;
    QAbstractItemModelTester tester {&model, QAbstractItemModelTester::FailureReportingMode::QtTest};
    Gateway::StatusSnapshot snapshot = baseSnapshot();
    model.update(snapshot);
    const QPersistentModelIndex embed = model.index(1, 0);

    Spies spies {&model};
    snapshot.routes.erase(snapshot.routes.begin());
    model.update(snapshot);

    QCOMPARE(spies.reset.count(), 0);
    QCOMPARE(spies.inserted.count(), 0);
    QCOMPARE(spies.removed.count(), 1);
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(embed.row(), 0);
    QCOMPARE(embed.data().toString(), QStringLiteral("embed"));
}

void TestRouteTableModel::childIndexesSurviveRouteInsertedAbove() const
{
    Ui::RouteTableModel model;
    QAbstractItemModelTester tester {&model, QAbstractItemModelTester::FailureReportingMode::QtTest};
    Gateway::StatusSnapshot snapshot = baseSnapshot();
    model.update(snapshot);
    const QPersistentModelIndex target = model.index(0, 0, model.index(1, 0)); // embed -> cloud/c

    snapshot.routes.insert(snapshot.routes.begin(), route("audio", {1}));
    model.update(snapshot);

    QVERIFY(target.isValid());
    QCOMPARE(target.parent().row(), 2);
    QCOMPARE(target.data().toString(), QStringLiteral("cloud/c"));
}

void TestRouteTableModel::exposesShareForTargetsOnly() const
{
    Ui::RouteTableModel model;
    model.update(baseSnapshot());
    const QModelIndex chatShare = model.index(0, Ui::RouteTableModel::ShareColumn);
    QVERIFY(!chatShare.data(Ui::RouteTableModel::ShareRole).isValid());
    const QModelIndex targetShare = model.index(0, Ui::RouteTableModel::ShareColumn, model.index(0, 0));
    QCOMPARE(targetShare.data(Ui::RouteTableModel::ShareRole).toDouble(), 0.5);
}

void TestRouteTableModel::showsCacheFiguresOfCachedRoutes() const
{
    Ui::RouteTableModel model;
    Gateway::StatusSnapshot snapshot = baseSnapshot();
    snapshot.routes[0].cache.enabled = true;
    snapshot.routes[0].cache.hits = 3;
    snapshot.routes[0].cache.lookups = 4;
    snapshot.routes[0].cache.savedUsd = 1.5;
    model.update(snapshot);
    const QString cache = model.index(0, Ui::RouteTableModel::CacheColumn).data().toString();
    QVERIFY2(cache.contains(QStringLiteral("75")) && cache.contains(QStringLiteral("3 hits")) && cache.contains(QStringLiteral("$1.50")),
             qPrintable(cache));
    QVERIFY(model.index(1, Ui::RouteTableModel::CacheColumn).data().toString().isEmpty());
    QCOMPARE(model.headerData(Ui::RouteTableModel::CacheColumn, Qt::Horizontal).toString(), QStringLiteral("Cache"));
}

void TestRouteTableModel::showsPrefillDecodePoolsAndSplits() const
{
    Ui::RouteTableModel model;
    Gateway::StatusSnapshot snapshot = baseSnapshot();
    snapshot.routes[0].hasPrefillPool = true;
    snapshot.routes[0].targets[0].pool = QStringLiteral("prefill");
    snapshot.routes[0].targets[1].pool = QStringLiteral("decode");
    snapshot.routes[0].disaggregated = 1;
    snapshot.routes[0].aggregated = 3;
    model.update(snapshot);
    const QModelIndex chat = model.index(0, Ui::RouteTableModel::TypeColumn);
    QCOMPARE(chat.data().toString(), QStringLiteral("least-request · P/D 25%"));
    QVERIFY2(chat.data(Qt::ToolTipRole).toString().contains(QStringLiteral("1 requests split")),
             qPrintable(chat.data(Qt::ToolTipRole).toString()));
    QCOMPARE(model.index(0, Ui::RouteTableModel::TypeColumn, model.index(0, 0)).data().toString(), QStringLiteral("vllm · prefill"));
    QCOMPARE(model.index(1, Ui::RouteTableModel::TypeColumn, model.index(0, 0)).data().toString(), QStringLiteral("vllm · decode"));
    // A route without a prefill pool shows its strategy alone, its targets their type.
    QCOMPARE(model.index(1, Ui::RouteTableModel::TypeColumn).data().toString(), QStringLiteral("least-request"));
    QCOMPARE(model.index(0, Ui::RouteTableModel::TypeColumn, model.index(1, 0)).data().toString(), QStringLiteral("vllm"));
}

QTEST_MAIN(TestRouteTableModel)
#include "testroutetablemodel.moc"
