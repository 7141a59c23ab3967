#include "terminalframe.h"

#include "terminalbudgets.h"
#include "terminalline.h"

#include "runtime/statussnapshot.h"

#include <algorithm>
#include <array>

namespace App {

namespace {

constexpr QByteArrayView ClearToEndOfLine {"\x1b[0m\x1b[K"};

constexpr int MinimumNameWidth = 16;
constexpr int MaximumNameWidth = 48;

struct Column {
    const char *title;
    int width;
};

// WEIGHT is the target's live share of its route: what the strategy draws with now,
// health ramp and adaptive factors included.
constexpr std::array RouteColumns {Column {"HEALTH", 14}, Column {"WEIGHT", 7},  Column {"REQ/S", 8},   Column {"INFL", 6},
                                   Column {"P50ms", 8},  Column {"P99ms", 8},   Column {"TTFT99", 8},
                                   Column {"ERRORS", 8}, Column {"ERR%", 7}};
constexpr std::array BackendColumns {Column {"TYPE", 11}, Column {"HEALTH", 14}, Column {"REQUESTS", 9}, Column {"REQ/S", 8},
                                     Column {"INFL", 6},    Column {"P50ms", 8},    Column {"P99ms", 8},
                                     Column {"TTFT50", 8},  Column {"TTFT99", 8},   Column {"ERRORS", 8},
                                     Column {"ERR%", 7},    Column {"TOK IN", 9},   Column {"TOK OUT", 9}};

// The first textColumns columns after the name hold text and are left-aligned.
template<std::size_t N>
QByteArray headerRow(int width, const QString &first, int nameWidth, const std::array<Column, N> &columns,
                     std::size_t textColumns = 0)
{
    LineBuilder line {width};
    line.left(first, nameWidth, Bold);
    for (std::size_t i = 0; i < N; ++i) {
        if (i < textColumns) {
            line.left(QLatin1Char(' ') + latin1(columns[i].title), columns[i].width, Bold);
        } else {
            line.right(latin1(columns[i].title), columns[i].width, Bold);
        }
    }
    return line.bytes();
}

// The share of the route's draws this target gets now; the configured share until the
// first recomputation gives effective weights.
double liveShare(const Gateway::RouteStatus &route, const Gateway::RouteTargetStatus &target)
{
    double total = 0;
    for (const Gateway::RouteTargetStatus &t : route.targets) {
        total += t.effectiveWeight;
    }
    return total > 0 ? target.effectiveWeight / total : target.share;
}

// "healthy 3m": the health state and how long it has held, coloured like the window's chip.
void healthCell(LineBuilder &line, const Gateway::BackendStatus &backend, int width)
{
    const QByteArrayView style = backend.health == QLatin1String("healthy") ? Green
        : backend.health == QLatin1String("failed")                           ? BoldRed
                                                                              : Yellow;
    line.left(QLatin1Char(' ') + backend.health + QLatin1Char(' ') + shortDuration(backend.healthForMs), width, style);
}

int nameWidthFor(const Gateway::StatusSnapshot &snapshot, int width)
{
    int longest = 0;
    for (const Gateway::RouteStatus &route : snapshot.routes) {
        longest = std::max(longest, static_cast<int>(route.model.size()) + 1);
        if (route.hasPrefillPool) {
            // P/D routes show their strategy and split share; their targets, their pool.
            longest = std::max(longest, static_cast<int>(route.model.size() + route.strategy.size()) + 10);
            for (const Gateway::RouteTargetStatus &target : route.targets) {
                if (target.backendIndex >= 0 && static_cast<std::size_t>(target.backendIndex) < snapshot.backends.size()) {
                    const auto &backend = snapshot.backends[static_cast<std::size_t>(target.backendIndex)];
                    longest = std::max(longest, static_cast<int>(backend.id.size() + target.pool.size()) + 6);
                }
            }
        }
    }
    for (const Gateway::BackendStatus &backend : snapshot.backends) {
        longest = std::max(longest, static_cast<int>(backend.id.size()) + 3);
    }
    const int wanted = std::clamp(longest + 1, MinimumNameWidth, MaximumNameWidth);
    // On narrow terminals names give way so that at least a few numbers stay visible.
    return std::max(10, std::min(wanted, width / 2));
}

// Routes with a prefill pool: the share of requests the P/D decider split, " P/D 25%".
QString pdSplit(const Gateway::RouteStatus &route)
{
    if (!route.hasPrefillPool) {
        return {};
    }
    const QString split = route.pdSplitPercent();
    return split.isEmpty() ? latin1(" P/D") : latin1(" P/D ") + split;
}

void appendRoutes(std::vector<QByteArray> &lines, const Gateway::StatusSnapshot &snapshot, int width, int nameWidth)
{
    lines.push_back(headerRow(width, latin1("ROUTE / TARGET"), nameWidth, RouteColumns, 1));
    if (snapshot.routes.empty()) {
        LineBuilder line {width};
        line.text(latin1("  no routes configured"), Dim);
        lines.push_back(line.bytes());
    }
    for (const Gateway::RouteStatus &route : snapshot.routes) {
        LineBuilder line {width};
        const QString model = QString::fromUtf8(route.model);
        const int strategyWidth = nameWidth - static_cast<int>(model.size()) - 1;
        if (strategyWidth > 4 && !route.strategy.isEmpty()) {
            line.text(model, Bold);
            line.left(QLatin1Char(' ') + route.strategy + pdSplit(route), strategyWidth + 1, Dim);
        } else {
            line.left(model, nameWidth, Bold);
        }
        line.right(QString {}, RouteColumns[0].width);
        line.right(QString {}, RouteColumns[1].width);
        line.right(rate(route.requestsPerSecond), RouteColumns[2].width);
        line.right(QString {}, RouteColumns[3].width);
        line.right(millis(route.latency.p50Ms, route.requests), RouteColumns[4].width);
        line.right(millis(route.latency.p99Ms, route.requests), RouteColumns[5].width);
        line.right(millis(route.ttft.p99Ms, route.requests), RouteColumns[6].width);
        const QByteArrayView errorStyle = route.errors > 0 ? Red : QByteArrayView {};
        line.right(count(route.errors), RouteColumns[7].width, errorStyle);
        line.right(errorPercent(route.errors, route.requests), RouteColumns[8].width, errorStyle);
        lines.push_back(line.bytes());

        for (const Gateway::RouteTargetStatus &target : route.targets) {
            LineBuilder targetLine {width};
            const bool known = target.backendIndex >= 0
                && static_cast<std::size_t>(target.backendIndex) < snapshot.backends.size();
            if (!known) {
                targetLine.left(latin1("  (unknown backend)"), nameWidth, Dim);
                lines.push_back(targetLine.bytes());
                continue;
            }
            const Gateway::BackendStatus &backend = snapshot.backends[static_cast<std::size_t>(target.backendIndex)];
            targetLine.left(latin1("  ") + backend.id + (target.pool.isEmpty() ? QString {} : latin1(" [") + target.pool + QLatin1Char(']')),
                            nameWidth);
            healthCell(targetLine, backend, RouteColumns[0].width);
            targetLine.right(QString::number(liveShare(route, target) * 100, 'f', 0) + QLatin1Char('%'),
                             RouteColumns[1].width);
            targetLine.right(rate(backend.requestsPerSecond), RouteColumns[2].width);
            targetLine.right(QString::number(backend.inFlight), RouteColumns[3].width);
            targetLine.right(millis(backend.latency.p50Ms, backend.requests), RouteColumns[4].width);
            targetLine.right(millis(backend.latency.p99Ms, backend.requests), RouteColumns[5].width);
            targetLine.right(millis(backend.ttft.p99Ms, backend.requests), RouteColumns[6].width);
            const QByteArrayView style = backend.errors > 0 ? Red : QByteArrayView {};
            targetLine.right(count(backend.errors), RouteColumns[7].width, style);
            targetLine.right(errorPercent(backend.errors, backend.requests), RouteColumns[8].width, style);
            lines.push_back(targetLine.bytes());
        }
    }
}

void appendBackends(std::vector<QByteArray> &lines, const Gateway::StatusSnapshot &snapshot, int width,
                    int nameWidth)
{
    lines.push_back(headerRow(width, latin1("BACKEND"), nameWidth, BackendColumns, 2));
    if (snapshot.backends.empty()) {
        LineBuilder line {width};
        line.text(latin1("  no backends configured"), Dim);
        lines.push_back(line.bytes());
    }
    for (const Gateway::BackendStatus &backend : snapshot.backends) {
        LineBuilder line {width};
        line.left(backend.id, nameWidth);
        line.left(QLatin1Char(' ') + backend.providerType, BackendColumns[0].width, Dim);
        healthCell(line, backend, BackendColumns[1].width);
        line.right(count(backend.requests), BackendColumns[2].width);
        line.right(rate(backend.requestsPerSecond), BackendColumns[3].width);
        line.right(QString::number(backend.inFlight), BackendColumns[4].width);
        line.right(millis(backend.latency.p50Ms, backend.requests), BackendColumns[5].width);
        line.right(millis(backend.latency.p99Ms, backend.requests), BackendColumns[6].width);
        line.right(millis(backend.ttft.p50Ms, backend.requests), BackendColumns[7].width);
        line.right(millis(backend.ttft.p99Ms, backend.requests), BackendColumns[8].width);
        const QByteArrayView style = backend.errors > 0 ? Red : QByteArrayView {};
        line.right(count(backend.errors), BackendColumns[9].width, style);
        line.right(errorPercent(backend.errors, backend.requests), BackendColumns[10].width, style);
        line.right(count(backend.tokensIn), BackendColumns[11].width);
        line.right(count(backend.tokensOut), BackendColumns[12].width);
        lines.push_back(line.bytes());
    }
}

// " q quit  1 all  2 routes  3 backends  4 budgets  r next  ^L repaint", the current view
// highlighted.
QByteArray keyHints(TerminalView current, int width)
{
    LineBuilder line {width};
    line.text(latin1(" q quit "), Dim);
    for (const TerminalView view : {TerminalView::All, TerminalView::Routes, TerminalView::Backends, TerminalView::Budgets}) {
        line.text(latin1(" "));
        line.text(QString::number(static_cast<int>(view) + 1) + QLatin1Char(' ') + terminalViewName(view),
                  view == current ? Reverse : Dim);
    }
    line.text(latin1("  r next  ^L repaint"), Dim);
    return line.bytes();
}

} // namespace

std::optional<TerminalView> terminalViewForKey(char key)
{
    if (key < '1' || key > '4') {
        return std::nullopt;
    }
    return static_cast<TerminalView>(key - '1');
}

TerminalView nextTerminalView(TerminalView view)
{
    return view == TerminalView::Budgets ? TerminalView::All : static_cast<TerminalView>(static_cast<int>(view) + 1);
}

QString terminalViewName(TerminalView view)
{
    switch (view) {
    case TerminalView::Routes:
        return latin1("routes");
    case TerminalView::Backends:
        return latin1("backends");
    case TerminalView::Budgets:
        return latin1("budgets");
    case TerminalView::All:
        break;
    }
    return latin1("all");
}

QByteArray renderTerminalFrame(const TerminalFrameInput &input, int width, int height, TerminalView view)
{
    const Gateway::StatusSnapshot &snapshot = input.snapshot;
    const QByteArray &adminToken = input.adminToken;
    width = std::max(width, 1);
    height = std::max(height, 1);
    std::vector<QByteArray> lines;

    {
        LineBuilder line {width};
        line.text(QStringLiteral(" Switchyard  %1  up %2  conns %3  active %4  %5 req/s ")
                      .arg(snapshot.baseUrl, uptime(snapshot.uptimeMs))
                      .arg(snapshot.openConnections)
                      .arg(snapshot.activeRequests)
                      .arg(rate(snapshot.requestsPerSecond)),
                  Reverse);
        line.fill(Reverse);
        lines.push_back(line.bytes());
    }
    {
        LineBuilder line {width};
        line.text(QStringLiteral(" requests %1  errors %2 (%3)  threads %4")
                      .arg(count(snapshot.totalRequests), count(snapshot.totalErrors),
                           errorPercent(snapshot.totalErrors, snapshot.totalRequests))
                      .arg(snapshot.threads) +
                      (adminToken.isEmpty() ? QString() : QStringLiteral("  admin token ") + QString::fromLatin1(adminToken)),
                  Dim);
        lines.push_back(line.bytes());
    }
    lines.emplace_back();

    const int nameWidth = nameWidthFor(snapshot, width);
    const bool all = view == TerminalView::All;
    if (all || view == TerminalView::Routes) {
        appendRoutes(lines, snapshot, width, nameWidth);
    }
    if (all) {
        lines.emplace_back();
    }
    if (all || view == TerminalView::Backends) {
        appendBackends(lines, snapshot, width, nameWidth);
    }
    // Everything also shows budgets when there are any; without teams or keys the
    // section would only say so.
    if (view == TerminalView::Budgets || (all && !input.budgets.isEmpty())) {
        if (all) {
            lines.emplace_back();
        }
        appendBudgetLines(lines, input.budgets, input.nowMs, width);
    }

    // The last row is the key help; the body gets the rest and says what it cut.
    const auto bodyRows = static_cast<std::size_t>(height - 1);
    if (lines.size() > bodyRows) {
        const std::size_t kept = bodyRows > 0 ? bodyRows - 1 : 0;
        const std::size_t hidden = lines.size() - kept;
        lines.resize(kept);
        if (bodyRows > 0) {
            LineBuilder line {width};
            line.text(QStringLiteral("  ... %1 more lines (enlarge the terminal or pick a view: 2-4)").arg(hidden), Dim);
            lines.push_back(line.bytes());
        }
    }
    while (lines.size() < bodyRows) {
        lines.emplace_back();
    }
    lines.push_back(keyHints(view, width));

    QByteArray frame;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        frame += lines[i];
        frame += ClearToEndOfLine;
        if (i + 1 < lines.size()) {
            frame += "\r\n";
        }
    }
    return frame;
}


} // namespace App
