#include "routetablemodel.h"

#include "semanticcolors.h"

#include "runtime/statussnapshot.h"

#include <QFont>
#include <QGuiApplication>
#include <QHash>
#include <QLocale>
#include <QPalette>
#include <QSet>

#include <iterator>

namespace Ui {

namespace {

// Row keys must be unique among siblings; a route could list the same backend twice,
// so repeats get their ordinal appended.
template<typename Row, typename KeyOf>
QStringList uniqueKeys(const std::vector<Row> &rows, KeyOf keyOf)
{
    QStringList keys;
    keys.reserve(static_cast<qsizetype>(rows.size()));
    QHash<QString, int> seen;
    for (const Row &row : rows) {
        const QString key = keyOf(row);
        const int repeat = seen[key]++;
        keys.append(repeat == 0 ? key : key + QChar(0x1f) + QString::number(repeat));
    }
    return keys;
}

QString noValue()
{
    return QStringLiteral("\u2013");
}

QString formatMs(double ms, qint64 requests)
{
    if (requests <= 0) {
        return noValue();
    }
    // Sub-10 ms values need the decimal to be distinguishable; larger ones don't.
    return QString::number(ms, 'f', ms < 10 ? 1 : 0);
}

QString formatRate(double perSecond)
{
    return QString::number(perSecond, 'f', perSecond < 100 ? 1 : 0);
}

QString formatPercent(double fraction)
{
    return QString::number(fraction * 100, 'f', 1) + QLatin1Char('%');
}

// "42 / 600" against a limit, "42" without one, nothing on route rows.
QString usageText(double perMinute, qint64 limit)
{
    if (perMinute < 0) {
        return {};
    }
    const QString used = QLocale {}.toString(static_cast<qint64>(perMinute + 0.5));
    return limit > 0 ? used + QStringLiteral(" / ") + QLocale {}.toString(limit) : used;
}

bool nearLimit(double perMinute, qint64 limit)
{
    // Warn before the provider starts answering 429.
    return limit > 0 && perMinute >= 0.8 * static_cast<double>(limit);
}

} // namespace

RouteTableModel::RouteTableModel(QObject *parent, BackendObservations::Clock clock)
    : QAbstractItemModel {parent}
    , m_observations {clock ? std::move(clock) : BackendObservations::Clock {[this] { return m_started.elapsed(); }}}
{
    m_started.start();
}

void RouteTableModel::setProviderLimits(QHash<QString, Limits> limits)
{
    m_limits = std::move(limits);
}

void RouteTableModel::update(const Gateway::StatusSnapshot &snapshot)
{
    for (const Gateway::BackendStatus &backend : snapshot.backends) {
        m_observations.observe(backend.id, backend.tokensIn + backend.tokensOut);
    }
    reconcile(QModelIndex {}, m_routes, rowsFrom(snapshot),
              [](const RouteRow &row) { return row.values.name; },
              [this](int row, RouteRow &existing, RouteRow &&fresh) {
                  updateRoute(row, existing, std::move(fresh));
              });
}

std::vector<RouteTableModel::RouteRow> RouteTableModel::rowsFrom(const Gateway::StatusSnapshot &snapshot)
{
    std::vector<RouteRow> rows;
    rows.reserve(snapshot.routes.size());
    for (const Gateway::RouteStatus &route : snapshot.routes) {
        RouteRow row;
        // Every candidate gets an id up front because a row may be inserted (and
        // queried by the view) before update() returns; survivors keep their old one.
        row.id = m_nextId++;
        RowValues &values = row.values;
        values.name = QString::fromUtf8(route.model);
        values.type = route.strategy;
        values.requests = route.requests;
        values.errors = route.errors;
        values.requestsPerSecond = route.requestsPerSecond;
        values.p50Ms = route.latency.p50Ms;
        values.p99Ms = route.latency.p99Ms;
        values.ttftP50Ms = route.ttft.p50Ms;
        values.ttftP99Ms = route.ttft.p99Ms;
        if (route.cache.enabled) {
            values.cache = tr("%1 · %2 hits · $%3")
                               .arg(route.cache.lookups > 0 ? formatPercent(route.cache.hitRatio()) : noValue(),
                                    QLocale {}.toString(route.cache.hits), QString::number(route.cache.savedUsd, 'f', 2));
        }
        values.toolTip = tr("Strategy: %1").arg(route.strategy);
        if (route.cache.enabled) {
            values.toolTip += QLatin1Char('\n') +
                              tr("Response cache: %1 entries, %2 tokens saved").arg(route.cache.entries).arg(route.cache.savedTokens);
        }
        if (!route.fallbacks.isEmpty()) {
            values.toolTip += QLatin1Char('\n') + tr("Fallbacks: %1").arg(route.fallbacks.join(QStringLiteral(", ")));
        }
        if (route.hasPrefillPool) {
            // How often the prefill/decode decider split a request, next to the strategy.
            const QString split = route.pdSplitPercent();
            values.type += tr(" · P/D %1").arg(split.isEmpty() ? noValue() : split);
            values.toolTip += QLatin1Char('\n') + tr("Prefill/decode: %1 requests split (prefilled on the prefill pool), %2 kept on one server")
                                                       .arg(route.disaggregated)
                                                       .arg(route.aggregated);
        }

        // Expected share: what the strategy draws with now (health ramp and adaptive
        // factors included); actual share: the targets' observed request rates.
        double effectiveSum = 0;
        double rateSum = 0;
        for (const Gateway::RouteTargetStatus &target : route.targets) {
            effectiveSum += target.effectiveWeight;
            if (target.backendIndex >= 0 && static_cast<std::size_t>(target.backendIndex) < snapshot.backends.size()) {
                rateSum += snapshot.backends[static_cast<std::size_t>(target.backendIndex)].requestsPerSecond;
            }
        }
        const bool adaptive = route.strategy == u"adaptive";

        row.targets.reserve(route.targets.size());
        for (const Gateway::RouteTargetStatus &target : route.targets) {
            RowValues t;
            t.weight = target.weight;
            t.configuredShare = target.share;
            t.share = effectiveSum > 0 ? target.effectiveWeight / effectiveSum : target.share;
            if (adaptive) {
                t.factors = tr("err ×%1 · lat ×%2 · util ×%3 · mom ×%4")
                                .arg(QString::number(target.errorPenalty, 'f', 2), QString::number(target.latencyScore, 'f', 2),
                                     QString::number(target.utilisation, 'f', 2), QString::number(target.momentum, 'f', 2));
            }
            const bool known = target.backendIndex >= 0
                && static_cast<std::size_t>(target.backendIndex) < snapshot.backends.size();
            if (known) {
                const Gateway::BackendStatus &backend = snapshot.backends[static_cast<std::size_t>(target.backendIndex)];
                t.name = backend.id;
                t.type = target.pool.isEmpty() ? backend.providerType : tr("%1 · %2").arg(backend.providerType, target.pool);
                t.requests = backend.requests;
                t.errors = backend.errors;
                t.requestsPerSecond = backend.requestsPerSecond;
                t.inFlight = backend.inFlight;
                t.p50Ms = backend.latency.p50Ms;
                t.p99Ms = backend.latency.p99Ms;
                t.ttftP50Ms = backend.ttft.p50Ms;
                t.ttftP99Ms = backend.ttft.p99Ms;
                t.health = backend.health;
                t.healthWeight = backend.healthWeight;
                t.healthAge = formatAge(backend.healthForMs);
                if (!backend.healthTransitioned) {
                    t.healthAge += QLatin1Char('+'); // no transition since the gateway started
                }
                if (rateSum > 0) {
                    t.actualShare = backend.requestsPerSecond / rateSum;
                }
                t.tokensInFlight = backend.inFlightPrefillTokens + backend.inFlightDecodeTokens;
                if (backend.hasEngineMetrics && backend.engine.fresh) {
                    t.queue = backend.engine.waitingRequests;
                    t.kvCache = backend.engine.kvCacheUsage;
                }
                t.rpm = backend.requestsPerSecond * 60;
                t.tpm = m_observations.tokensPerMinute(backend.id);
                const Limits limits = m_limits.value(backend.provider);
                t.rpmLimit = limits.rpm;
                t.tpmLimit = limits.tpm;
                t.toolTip = tr("Backend %1 (%2), model %3\nCounters are the backend's, shared by every route that uses it.")
                                .arg(backend.id, backend.providerType, QString::fromUtf8(backend.model));
                t.toolTip += QLatin1Char('\n') + tr("Weight now %1 (error ×%2, latency ×%3, utilisation ×%4, momentum ×%5)")
                                                   .arg(QString::number(target.effectiveWeight, 'g', 3),
                                                        QString::number(target.errorPenalty, 'g', 2),
                                                        QString::number(target.latencyScore, 'g', 2),
                                                        QString::number(target.utilisation, 'g', 2),
                                                        QString::number(target.momentum, 'g', 2));
            } else {
                t.name = tr("(unknown backend)");
            }
            row.targets.push_back(std::move(t));
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

template<typename Row, typename KeyOf, typename Update>
void RouteTableModel::reconcile(const QModelIndex &parent, std::vector<Row> &rows, std::vector<Row> &&fresh,
                                KeyOf keyOf, Update update)
{
    QStringList keys = uniqueKeys(rows, keyOf);
    const QStringList freshKeys = uniqueKeys(fresh, keyOf);
    const QSet<QString> wanted {freshKeys.cbegin(), freshKeys.cend()};

    // Remove vanished rows back to front, one signal pair per contiguous run.
    for (int last = static_cast<int>(keys.size()) - 1; last >= 0;) {
        if (wanted.contains(keys[last])) {
            --last;
            continue;
        }
        int first = last;
        while (first > 0 && !wanted.contains(keys[first - 1])) {
            --first;
        }
        beginRemoveRows(parent, first, last);
        rows.erase(rows.begin() + first, rows.begin() + last + 1);
        keys.remove(first, last - first + 1);
        endRemoveRows();
        last = first - 1;
    }

    // Surviving rows must appear in the same relative order; if the configuration
    // reordered them, start this level over rather than emulate moves.
    qsizetype previous = -1;
    for (const QString &key : std::as_const(keys)) {
        const qsizetype position = freshKeys.indexOf(key);
        if (position <= previous) {
            beginRemoveRows(parent, 0, static_cast<int>(rows.size()) - 1);
            rows.clear();
            keys.clear();
            endRemoveRows();
            break;
        }
        previous = position;
    }

    // Walk both lists: matching keys update in place, runs of new keys are inserted.
    int i = 0;
    int j = 0;
    const int freshCount = static_cast<int>(freshKeys.size());
    while (j < freshCount) {
        if (i < keys.size() && keys[i] == freshKeys[j]) {
            update(i, rows[static_cast<std::size_t>(i)], std::move(fresh[static_cast<std::size_t>(j)]));
            ++i;
            ++j;
            continue;
        }
        int end = j;
        while (end < freshCount && (i >= keys.size() || freshKeys[end] != keys[i])) {
            ++end;
        }
        const int count = end - j;
        beginInsertRows(parent, i, i + count - 1);
        rows.insert(rows.begin() + i, std::make_move_iterator(fresh.begin() + j),
                    std::make_move_iterator(fresh.begin() + end));
        for (int k = 0; k < count; ++k) {
            keys.insert(i + k, freshKeys[j + k]);
        }
        endInsertRows();
        i += count;
        j = end;
    }
}

void RouteTableModel::updateRoute(int row, RouteRow &existing, RouteRow &&fresh)
{
    if (existing.values != fresh.values) {
        existing.values = std::move(fresh.values);
        emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
    }
    const QModelIndex parent = index(row, 0);
    reconcile(parent, existing.targets, std::move(fresh.targets),
              [](const RowValues &values) { return values.name; },
              [this, &parent](int target, RowValues &current, RowValues &&next) {
                  updateTarget(parent, target, current, std::move(next));
              });
}

void RouteTableModel::updateTarget(const QModelIndex &parent, int row, RowValues &existing, RowValues &&fresh)
{
    if (existing != fresh) {
        existing = std::move(fresh);
        emit dataChanged(index(row, 0, parent), index(row, ColumnCount - 1, parent));
    }
}

int RouteTableModel::routeRowOf(quintptr id) const
{
    // Few routes, so a linear scan beats keeping a second index in sync.
    for (std::size_t i = 0; i < m_routes.size(); ++i) {
        if (m_routes[i].id == id) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

QModelIndex RouteTableModel::index(int row, int column, const QModelIndex &parent) const
{
    if (row < 0 || column < 0 || column >= ColumnCount) {
        return {};
    }
    if (!parent.isValid()) {
        if (static_cast<std::size_t>(row) >= m_routes.size()) {
            return {};
        }
        return createIndex(row, column, quintptr {0});
    }
    if (parent.internalId() != 0 || parent.column() != 0
        || static_cast<std::size_t>(parent.row()) >= m_routes.size()) {
        return {};
    }
    const RouteRow &route = m_routes[static_cast<std::size_t>(parent.row())];
    if (static_cast<std::size_t>(row) >= route.targets.size()) {
        return {};
    }
    return createIndex(row, column, route.id);
}

QModelIndex RouteTableModel::parent(const QModelIndex &child) const
{
    if (!child.isValid() || child.internalId() == 0) {
        return {};
    }
    const int routeRow = routeRowOf(child.internalId());
    if (routeRow < 0) {
        return {};
    }
    return createIndex(routeRow, 0, quintptr {0});
}

int RouteTableModel::rowCount(const QModelIndex &parent) const
{
    if (!parent.isValid()) {
        return static_cast<int>(m_routes.size());
    }
    if (parent.internalId() != 0 || parent.column() != 0
        || static_cast<std::size_t>(parent.row()) >= m_routes.size()) {
        return 0;
    }
    return static_cast<int>(m_routes[static_cast<std::size_t>(parent.row())].targets.size());
}

int RouteTableModel::columnCount(const QModelIndex &) const
{
    return ColumnCount;
}

const RouteTableModel::RowValues *RouteTableModel::rowValues(const QModelIndex &index) const
{
    if (!index.isValid() || index.model() != this) {
        return nullptr;
    }
    const auto row = static_cast<std::size_t>(index.row());
    if (index.internalId() == 0) {
        return row < m_routes.size() ? &m_routes[row].values : nullptr;
    }
    const int routeRow = routeRowOf(index.internalId());
    if (routeRow < 0) {
        return nullptr;
    }
    const auto &targets = m_routes[static_cast<std::size_t>(routeRow)].targets;
    return row < targets.size() ? &targets[row] : nullptr;
}

QVariant RouteTableModel::displayData(const RowValues &values, int column) const
{
    switch (column) {
    case NameColumn:
        return values.name;
    case TypeColumn:
        return values.type;
    case ShareColumn:
        return values.share < 0 ? QString {} : formatPercent(values.share);
    case FactorsColumn:
        return values.factors;
    case TokensInFlightColumn:
        return values.tokensInFlight < 0 ? QString {} : QLocale {}.toString(values.tokensInFlight);
    case QueueColumn:
        if (values.tokensInFlight < 0) {
            return QString {};
        }
        return values.queue < 0 ? noValue() : QString::number(values.queue, 'f', 0);
    case KvCacheColumn:
        if (values.tokensInFlight < 0) {
            return QString {};
        }
        return values.kvCache < 0 ? noValue() : formatPercent(values.kvCache);
    case RpmColumn:
        return usageText(values.rpm, values.rpmLimit);
    case TpmColumn:
        return usageText(values.tpm, values.tpmLimit);
    case CacheColumn:
        return values.cache;
    case HealthColumn:
        if (values.health == u"failed") {
            return tr("circuit open");
        }
        if (values.health == u"recovering") {
            return tr("recovering %1").arg(formatPercent(values.healthWeight));
        }
        return values.health;
    case RequestsColumn:
        return QLocale {}.toString(values.requests);
    case RateColumn:
        return formatRate(values.requestsPerSecond);
    case InFlightColumn:
        return values.inFlight < 0 ? QString {} : QString::number(values.inFlight);
    case P50Column:
        return formatMs(values.p50Ms, values.requests);
    case P99Column:
        return formatMs(values.p99Ms, values.requests);
    case TtftP50Column:
        return formatMs(values.ttftP50Ms, values.requests);
    case TtftP99Column:
        return formatMs(values.ttftP99Ms, values.requests);
    case ErrorsColumn:
        return QLocale {}.toString(values.errors);
    case ErrorRateColumn:
        if (values.requests <= 0) {
            return noValue();
        }
        return formatPercent(static_cast<double>(values.errors) / static_cast<double>(values.requests));
    default:
        return {};
    }
}

QVariant RouteTableModel::data(const QModelIndex &index, int role) const
{
    const RowValues *values = rowValues(index);
    if (values == nullptr) {
        return {};
    }
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        return displayData(*values, column);
    case Qt::ToolTipRole:
        if (column == ShareColumn && values->share >= 0) {
            return tr("Weight %1 (configured share %2); expected now %3, actual %4")
                .arg(QString::number(values->weight), formatPercent(values->configuredShare),
                     formatPercent(values->share),
                     values->actualShare < 0 ? tr("no traffic") : formatPercent(values->actualShare));
        }
        if (column == HealthColumn && !values->health.isEmpty()) {
            return tr("%1 for %2 (time since the last transition; '+' = none since the gateway started)")
                .arg(values->health, values->healthAge);
        }
        return values->toolTip.isEmpty() ? QVariant {} : QVariant {values->toolTip};
    case Qt::TextAlignmentRole:
        if (column >= RequestsColumn) {
            return QVariant::fromValue(Qt::Alignment {Qt::AlignRight | Qt::AlignVCenter});
        }
        return {};
    case Qt::ForegroundRole:
        if ((column == ErrorsColumn || column == ErrorRateColumn) && values->errors > 0) {
            return errorColor(QGuiApplication::palette());
        }
        if (column == HealthColumn && !values->health.isEmpty() && values->health != u"healthy") {
            return errorColor(QGuiApplication::palette());
        }
        if ((column == RpmColumn && nearLimit(values->rpm, values->rpmLimit))
            || (column == TpmColumn && nearLimit(values->tpm, values->tpmLimit))) {
            return warningColor(QGuiApplication::palette());
        }
        return {};
    case Qt::FontRole:
        if (column == NameColumn && index.internalId() == 0) {
            QFont font;
            font.setBold(true);
            return font;
        }
        return {};
    case ShareRole:
        return values->share < 0 ? QVariant {} : QVariant {values->share};
    case WeightRole:
        return values->share < 0 ? QVariant {} : QVariant {values->weight};
    case ActualShareRole:
        return values->actualShare < 0 ? QVariant {} : QVariant {values->actualShare};
    case HealthStateRole:
        return values->health.isEmpty() ? QVariant {} : QVariant {values->health};
    case HealthAgeRole:
        return values->health.isEmpty() ? QVariant {} : QVariant {values->healthAge};
    default:
        return {};
    }
}

QVariant RouteTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal) {
        return {};
    }
    if (role == Qt::TextAlignmentRole) {
        if (section >= RequestsColumn) {
            return QVariant::fromValue(Qt::Alignment {Qt::AlignRight | Qt::AlignVCenter});
        }
        return {};
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case RequestsColumn:
            return tr("Routes: client requests answered. Targets: attempts sent to the backend.");
        case ErrorsColumn:
            return tr("Routes: requests answered with an error. "
                      "Targets: failed attempts (connect, timeout, 5xx, 429).");
        case TtftP50Column:
        case TtftP99Column:
            return tr("Time to the first byte of the response body (first token when streaming).");
        case ShareColumn:
            return tr("Bar: the share the strategy draws with now. Tick: the share of requests it actually got.");
        case FactorsColumn:
            return tr("Adaptive routes: error penalty, latency score, utilisation and momentum behind the weight.");
        case QueueColumn:
        case KvCacheColumn:
            return tr("Reported by the engine's metrics_url (GPU servers); – when unknown or stale.");
        case RpmColumn:
        case TpmColumn:
            return tr("Per backend, against the sum of its provider keys' limits.");
        case CacheColumn:
            return tr("Routes with a response cache: hit ratio, hits, and dollars the hits did not spend again.");
        default:
            return {};
        }
    }
    if (role != Qt::DisplayRole) {
        return {};
    }
    switch (section) {
    case NameColumn:
        return tr("Route / backend");
    case TypeColumn:
        return tr("Strategy / type");
    case ShareColumn:
        return tr("Share");
    case FactorsColumn:
        return tr("Weight factors");
    case TokensInFlightColumn:
        return tr("Tokens in flight");
    case QueueColumn:
        return tr("Queue");
    case KvCacheColumn:
        return tr("KV cache");
    case RpmColumn:
        return tr("RPM");
    case TpmColumn:
        return tr("TPM");
    case CacheColumn:
        return tr("Cache");
    case HealthColumn:
        return tr("Health");
    case RequestsColumn:
        return tr("Requests");
    case RateColumn:
        return tr("Req/s");
    case InFlightColumn:
        return tr("In flight");
    case P50Column:
        return tr("p50 ms");
    case P99Column:
        return tr("p99 ms");
    case TtftP50Column:
        return tr("TTFT p50");
    case TtftP99Column:
        return tr("TTFT p99");
    case ErrorsColumn:
        return tr("Errors");
    case ErrorRateColumn:
        return tr("Error rate");
    default:
        return {};
    }
}

Qt::ItemFlags RouteTableModel::flags(const QModelIndex &index) const
{
    if (!index.isValid()) {
        return Qt::NoItemFlags;
    }
    Qt::ItemFlags flags = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    if (index.internalId() != 0) {
        flags |= Qt::ItemNeverHasChildren;
    }
    return flags;
}

} // namespace Ui
