#pragma once

#include "dashboard/backendobservations.h"

#include <QAbstractItemModel>
#include <QElapsedTimer>
#include <QHash>

#include <vector>

namespace Gateway {
struct StatusSnapshot;
}

namespace Ui {

// Routes as top-level rows, each with its targets as children. update() diffs the new
// snapshot against what the view already shows: numbers change in place (dataChanged),
// and rows are only inserted or removed when the set of routes or targets changes, so
// selection, expansion and scroll position survive the 2 Hz refresh.
class RouteTableModel final : public QAbstractItemModel {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RouteTableModel)

public:
    enum Column {
        NameColumn,      // route model, or the target's backend id
        TypeColumn,      // routing strategy, or the target's provider type
        ShareColumn,     // expected share of the route's traffic (bar), actual share (tick)
        FactorsColumn,   // adaptive routes: the factors behind the weight
        HealthColumn,    // the routing engine's health state of a target (with its ramp)
        RequestsColumn,
        RateColumn,
        InFlightColumn,
        TokensInFlightColumn,
        QueueColumn,     // the engine's waiting requests (fresh /metrics only)
        KvCacheColumn,   // the engine's KV-cache usage
        P50Column,
        P99Column,
        TtftP50Column,
        TtftP99Column,
        ErrorsColumn,
        ErrorRateColumn,
        RpmColumn,       // requests per minute against the provider keys' rpm limits
        TpmColumn,       // tokens per minute against the keys' tpm limits
        CacheColumn,     // cached routes: hit ratio, hits and dollars saved by the response cache
        ColumnCount
    };

    enum Role {
        ShareRole = Qt::UserRole + 1, // double in [0, 1] on target rows, invalid elsewhere
        WeightRole,                   // configured weight on target rows
        ActualShareRole,              // observed share of the route's request rate, target rows
        HealthStateRole,              // "healthy", "degraded", "failed", "recovering"; target rows
        HealthAgeRole,                // "3m 05s" since the last transition (the gateway's)
    };

    // Summed rpm/tpm limits of a provider's keys; 0 = unlimited.
    struct Limits {
        qint64 rpm = 0;
        qint64 tpm = 0;
    };

    // `clock` is monotonic milliseconds; the default is a timer started here.
    explicit RouteTableModel(QObject *parent = nullptr, BackendObservations::Clock clock = {});

    void update(const Gateway::StatusSnapshot &snapshot);
    // Limits by provider name, from the active policy.
    void setProviderLimits(QHash<QString, Limits> limits);

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;

private:
    // What one row shows; compared as a whole to decide whether to emit dataChanged.
    struct RowValues {
        QString name;
        QString type;
        double weight = 0;
        double share = -1; // < 0: no share (route rows)
        double actualShare = -1; // < 0: no traffic to compare with
        double configuredShare = -1;
        QString factors;   // adaptive routes' targets only
        QString health;    // empty on route rows
        QString healthAge;
        double healthWeight = 1;
        qint64 tokensInFlight = -1; // < 0: not tracked (route rows)
        double queue = -1;          // < 0: unknown
        double kvCache = -1;        // < 0: unknown
        double rpm = -1;            // < 0: route rows
        double tpm = -1;
        qint64 rpmLimit = 0;
        qint64 tpmLimit = 0;
        qint64 requests = 0;
        qint64 errors = 0;
        double requestsPerSecond = 0;
        int inFlight = -1; // < 0: not tracked (route rows)
        double p50Ms = 0;
        double p99Ms = 0;
        double ttftP50Ms = 0;
        double ttftP99Ms = 0;
        QString cache; // empty: the route has no response cache (and on target rows)
        QString toolTip;

        bool operator==(const RowValues &) const = default;
    };

    struct RouteRow {
        // Stable for the row's lifetime; child indexes carry it as their internal id,
        // so they stay valid when routes above them are inserted or removed.
        quintptr id = 0;
        RowValues values;
        std::vector<RowValues> targets;
    };

    std::vector<RouteRow> rowsFrom(const Gateway::StatusSnapshot &snapshot);

    // Brings rows (children of parent) in line with fresh: removes rows whose key is
    // gone, inserts new ones, and calls update(row, existing, fresh) for the rest.
    template<typename Row, typename KeyOf, typename Update>
    void reconcile(const QModelIndex &parent, std::vector<Row> &rows, std::vector<Row> &&fresh,
                   KeyOf keyOf, Update update);
    void updateTarget(const QModelIndex &parent, int row, RowValues &existing, RowValues &&fresh);
    void updateRoute(int row, RouteRow &existing, RouteRow &&fresh);
    const RowValues *rowValues(const QModelIndex &index) const;
    int routeRowOf(quintptr id) const;
    QVariant displayData(const RowValues &values, int column) const;

    std::vector<RouteRow> m_routes;
    quintptr m_nextId = 1; // 0 marks top-level indexes
    QElapsedTimer m_started;
    BackendObservations m_observations;
    QHash<QString, Limits> m_limits;
};

} // namespace Ui
