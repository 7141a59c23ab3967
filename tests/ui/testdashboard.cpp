// The dashboard inside the real main window, fed by a snapshot the test changes: the
// weights, states and ages it shows follow, and selection survives the 2 Hz refresh.

#include "dashboard/backendobservations.h"
#include "dashboard/dashboardview.h"
#include "mainwindow.h"
#include "routetablemodel.h"

#include "runtime/statussnapshot.h"

#include <QItemSelectionModel>
#include <QSignalSpy>
#include <QTest>
#include <QTreeView>

namespace {

class FakeStatus final : public Gateway::StatusProvider {
public:
    Gateway::StatusSnapshot snapshot;
    Gateway::StatusSnapshot statusSnapshot() const override { return snapshot; }
};

Gateway::BackendStatus backend(const QString &id)
{
    Gateway::BackendStatus status;
    status.id = id;
    status.provider = id.section(QLatin1Char('/'), 0, 0);
    status.providerType = QStringLiteral("vllm");
    status.model = id.section(QLatin1Char('/'), 1).toUtf8();
    return status;
}

Gateway::RouteTargetStatus target(int backendIndex, double weight, double share, double effective)
{
    Gateway::RouteTargetStatus t;
    t.backendIndex = backendIndex;
    t.weight = weight;
    t.share = share;
    t.effectiveWeight = effective;
    return t;
}

} // namespace

class TestDashboard final : public QObject {
    Q_OBJECT

private slots:
    void reflectsChangingWeightsAndStates();
    void adaptiveFactorsAndActualShare();
    void healthAgeCountsFromTheLastTransition();
    void selectionSurvivesRefresh();
};

void TestDashboard::reflectsChangingWeightsAndStates()
{
    FakeStatus status;
    status.snapshot.backends = {backend(QStringLiteral("gpu/a")), backend(QStringLiteral("cloud/b"))};
    Gateway::RouteStatus route;
    route.model = "chat";
    route.strategy = QStringLiteral("weighted");
    route.targets = {target(0, 3, 0.75, 3), target(1, 1, 0.25, 1)};
    status.snapshot.routes = {route};

    Ui::MainWindow window {status};
    window.show();
    const Ui::RouteTableModel *model = window.dashboard()->model();
    QCOMPARE(model->rowCount(), 1);
    const QModelIndex chat = model->index(0, 0);
    const auto share = [&](int row) { return model->index(row, Ui::RouteTableModel::ShareColumn, chat).data(Ui::RouteTableModel::ShareRole).toDouble(); };
    const auto health = [&](int row) { return model->index(row, Ui::RouteTableModel::HealthColumn, chat).data(Ui::RouteTableModel::HealthStateRole).toString(); };
    QCOMPARE(share(0), 0.75);
    QCOMPARE(health(1), QStringLiteral("healthy"));

    // The second backend's circuit opens: its effective weight drops to 0.
    status.snapshot.backends[1].health = QStringLiteral("failed");
    status.snapshot.routes[0].targets[1].effectiveWeight = 0;
    QTRY_COMPARE(health(1), QStringLiteral("failed"));
    QTRY_COMPARE(share(0), 1.0);
    QCOMPARE(share(1), 0.0);
    QCOMPARE(model->index(1, Ui::RouteTableModel::HealthColumn, chat).data().toString(), QStringLiteral("circuit open"));

    // It recovers at 40% of its weight.
    status.snapshot.backends[1].health = QStringLiteral("recovering");
    status.snapshot.backends[1].healthWeight = 0.4;
    status.snapshot.routes[0].targets[1].effectiveWeight = 0.4;
    QTRY_COMPARE(health(1), QStringLiteral("recovering"));
    QTRY_VERIFY(qAbs(share(1) - 0.4 / 3.4) < 1e-9);
}

void TestDashboard::adaptiveFactorsAndActualShare()
{
    Gateway::StatusSnapshot snapshot;
    snapshot.backends = {backend(QStringLiteral("gpu/a")), backend(QStringLiteral("gpu/b"))};
    snapshot.backends[0].requestsPerSecond = 3;
    snapshot.backends[1].requestsPerSecond = 1;
    snapshot.backends[0].hasEngineMetrics = true;
    snapshot.backends[0].engine.fresh = true;
    snapshot.backends[0].engine.waitingRequests = 4;
    snapshot.backends[0].engine.kvCacheUsage = 0.5;
    Gateway::RouteStatus route;
    route.model = "chat";
    route.strategy = QStringLiteral("adaptive");
    route.targets = {target(0, 1, 0.5, 1.2), target(1, 1, 0.5, 0.8)};
    route.targets[1].latencyScore = 0.8;
    snapshot.routes = {route};

    Ui::RouteTableModel model;
    model.update(snapshot);
    const QModelIndex chat = model.index(0, 0);
    QVERIFY(model.index(1, Ui::RouteTableModel::FactorsColumn, chat).data().toString().contains(QStringLiteral("lat ×0.80")));
    QCOMPARE(model.index(0, Ui::RouteTableModel::ShareColumn, chat).data(Ui::RouteTableModel::ActualShareRole).toDouble(), 0.75);
    QCOMPARE(model.index(0, Ui::RouteTableModel::ShareColumn, chat).data(Ui::RouteTableModel::ShareRole).toDouble(), 0.6);
    QCOMPARE(model.index(0, Ui::RouteTableModel::QueueColumn, chat).data().toString(), QStringLiteral("4"));
    QCOMPARE(model.index(0, Ui::RouteTableModel::KvCacheColumn, chat).data().toString(), QStringLiteral("50.0%"));
    QCOMPARE(model.index(1, Ui::RouteTableModel::QueueColumn, chat).data().toString(), QStringLiteral("\u2013"));

    QHash<QString, Ui::RouteTableModel::Limits> limits;
    limits.insert(QStringLiteral("gpu"), {600, 0});
    model.setProviderLimits(limits);
    model.update(snapshot);
    QCOMPARE(model.index(0, Ui::RouteTableModel::RpmColumn, chat).data().toString(), QStringLiteral("180 / 600"));
}

void TestDashboard::healthAgeCountsFromTheLastTransition()
{
    // The age is the gateway's (the snapshot's), not when the console happened to look.
    Gateway::StatusSnapshot snapshot;
    snapshot.backends = {backend(QStringLiteral("gpu/a")), backend(QStringLiteral("gpu/b"))};
    snapshot.backends[0].healthForMs = 3 * 60 * 1000 + 5000;
    snapshot.backends[0].healthTransitioned = false;
    snapshot.backends[1].health = QStringLiteral("failed");
    snapshot.backends[1].healthForMs = 4000;
    snapshot.backends[1].healthTransitioned = true;
    Gateway::RouteStatus route;
    route.model = "chat";
    route.strategy = QStringLiteral("weighted");
    route.targets = {target(0, 1, 0.5, 1), target(1, 1, 0.5, 0)};
    snapshot.routes = {route};

    Ui::RouteTableModel model;
    model.update(snapshot);
    const QModelIndex chat = model.index(0, 0);
    const auto age = [&](int row) {
        return model.index(row, Ui::RouteTableModel::HealthColumn, chat).data(Ui::RouteTableModel::HealthAgeRole).toString();
    };
    QCOMPARE(age(0), QStringLiteral("3m 05s+")); // no transition since the gateway started
    QCOMPARE(age(1), QStringLiteral("4s"));
    QVERIFY(model.index(1, Ui::RouteTableModel::HealthColumn, chat).data(Qt::ToolTipRole).toString().startsWith(
        QStringLiteral("failed for 4s")));
    snapshot.backends[1].healthForMs = 125000;
    model.update(snapshot);
    QCOMPARE(age(1), QStringLiteral("2m 05s"));
    QCOMPARE(Ui::formatAge(4000), QStringLiteral("4s"));

    // The token rate is still the console's own observation.
    qint64 now = 0;
    Ui::BackendObservations observations {[&now] { return now; }};
    observations.observe(QStringLiteral("b"), 0);
    now = 5000;
    observations.observe(QStringLiteral("b"), 600);
    QCOMPARE(observations.tokensPerMinute(QStringLiteral("b")), 7200.0);
}

void TestDashboard::selectionSurvivesRefresh()
{
    FakeStatus status;
    status.snapshot.backends = {backend(QStringLiteral("gpu/a")), backend(QStringLiteral("cloud/b"))};
    Gateway::RouteStatus route;
    route.model = "chat";
    route.strategy = QStringLiteral("weighted");
    route.targets = {target(0, 1, 0.5, 1), target(1, 1, 0.5, 1)};
    status.snapshot.routes = {route};
    Ui::MainWindow window {status};
    window.show();
    QTreeView *tree = window.dashboard()->tree();
    const QModelIndex second = tree->model()->index(1, 0, tree->model()->index(0, 0));
    tree->selectionModel()->select(second, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    QSignalSpy reset {tree->model(), &QAbstractItemModel::modelReset};
    QSignalSpy changed {tree->model(), &QAbstractItemModel::dataChanged};
    status.snapshot.backends[1].requests = 42;
    status.snapshot.backends[1].requestsPerSecond = 4.2;
    QTRY_VERIFY(!changed.isEmpty());
    QCOMPARE(reset.count(), 0);
    QVERIFY(tree->selectionModel()->isRowSelected(1, tree->model()->index(0, 0)));
}

QTEST_MAIN(TestDashboard)
#include "testdashboard.moc"
