#include "terminalconsole.h"

#include "runtime/statussnapshot.h"

#include <QSocketNotifier>
#include <QString>
#include <QTimer>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

namespace App {

namespace {

// Alternate screen, hidden cursor, no auto-wrap (a line that is one column too long
// must never scroll the screen), then clear it once.
constexpr QByteArrayView EnterSequence {"\x1b[?1049h\x1b[?25l\x1b[?7l\x1b[2J"};
constexpr QByteArrayView LeaveSequence {"\x1b[0m\x1b[?7h\x1b[?25h\x1b[?1049l"};
// Synchronized output (ignored by terminals that lack it) plus cursor home: the frame
// overwrites the previous one in place instead of clearing first, so nothing flickers.
constexpr QByteArrayView FrameBegin {"\x1b[?2026h\x1b[H"};
constexpr QByteArrayView FrameEnd {"\x1b[0m\x1b[J\x1b[?2026l"};
constexpr QByteArrayView ClearToEndOfLine {"\x1b[0m\x1b[K"};

constexpr QByteArrayView Bold {"1"};
constexpr QByteArrayView Dim {"2"};
constexpr QByteArrayView Reverse {"7"};
constexpr QByteArrayView Red {"31"};

constexpr int MinimumNameWidth = 16;
constexpr int MaximumNameWidth = 48;

struct InstalledHandler {
    int signal;
    void (*handler)(int);
    struct sigaction previous;
    bool installed;
};

// The terminal belongs to the process, and signal handlers cannot reach an object, so
// this is the one piece of file-level state. Handlers only read it and call
// async-signal-safe functions (write, tcsetattr, sigaction, kill, raise).
struct TerminalState {
    termios original {};
    volatile sig_atomic_t haveOriginal = 0;
    volatile sig_atomic_t modeApplied = 0;
    volatile sig_atomic_t screenEntered = 0;
    volatile sig_atomic_t signalPipe = -1;
    volatile sig_atomic_t owned = 0;
    std::array<InstalledHandler, 7> handlers {};
    int handlerCount = 0;
};

TerminalState s_terminal;

void writeAll(int fd, const char *data, std::size_t size)
{
    while (size > 0) {
        const ssize_t written = ::write(fd, data, size);
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            return; // a full pipe or a closed terminal: drop this frame, the next one repaints
        }
        data += written;
        size -= static_cast<std::size_t>(written);
    }
}

void writeAll(int fd, QByteArrayView bytes)
{
    writeAll(fd, bytes.data(), static_cast<std::size_t>(bytes.size()));
}

// Async-signal-safe: called from handlers and from atexit as well as from stop().
void leaveTerminal()
{
    if (s_terminal.screenEntered != 0) {
        s_terminal.screenEntered = 0;
        writeAll(STDOUT_FILENO, LeaveSequence);
    }
    if (s_terminal.modeApplied != 0) {
        s_terminal.modeApplied = 0;
        ::tcsetattr(STDIN_FILENO, TCSADRAIN, &s_terminal.original);
    }
}

void notifyLoop(int signal)
{
    const int savedErrno = errno;
    const int fd = s_terminal.signalPipe;
    if (fd >= 0) {
        const char byte = static_cast<char>(signal);
        [[maybe_unused]] const ssize_t written = ::write(fd, &byte, 1);
    }
    errno = savedErrno;
}

// Ctrl+Z: hand the shell a sane terminal, then stop for real; SIGCONT (via the pipe)
// takes the screen back.
void suspend(int)
{
    const int savedErrno = errno;
    leaveTerminal();
    ::kill(::getpid(), SIGSTOP);
    errno = savedErrno;
}

// Only installed where the signal would otherwise kill the process: restore the
// terminal, then die of the same signal as before.
void terminate(int signal)
{
    leaveTerminal();
    struct sigaction defaultAction {};
    defaultAction.sa_handler = SIG_DFL;
    sigemptyset(&defaultAction.sa_mask);
    ::sigaction(signal, &defaultAction, nullptr);
    ::raise(signal);
}

void installHandler(int signal, void (*handler)(int), bool onlyOverDefault)
{
    struct sigaction current {};
    if (::sigaction(signal, nullptr, &current) != 0) {
        return;
    }
    const bool isDefault = (current.sa_flags & SA_SIGINFO) == 0 && current.sa_handler == SIG_DFL;
    if (onlyOverDefault && !isDefault) {
        return; // the application handles it (e.g. graceful shutdown on SIGTERM)
    }
    struct sigaction action {};
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    InstalledHandler &entry = s_terminal.handlers[static_cast<std::size_t>(s_terminal.handlerCount)];
    entry.signal = signal;
    entry.handler = handler;
    entry.installed = ::sigaction(signal, &action, &entry.previous) == 0;
    ++s_terminal.handlerCount;
}

void installHandlers()
{
    s_terminal.handlerCount = 0;
    installHandler(SIGWINCH, notifyLoop, false);
    installHandler(SIGCONT, notifyLoop, false);
    installHandler(SIGTSTP, suspend, true);
    for (const int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) {
        installHandler(signal, terminate, true);
    }
}

void uninstallHandlers()
{
    for (int i = 0; i < s_terminal.handlerCount; ++i) {
        const InstalledHandler &entry = s_terminal.handlers[static_cast<std::size_t>(i)];
        struct sigaction current {};
        // Leave alone whatever someone installed over ours in the meantime.
        if (entry.installed && ::sigaction(entry.signal, nullptr, &current) == 0
            && (current.sa_flags & SA_SIGINFO) == 0 && current.sa_handler == entry.handler) {
            ::sigaction(entry.signal, &entry.previous, nullptr);
        }
    }
    s_terminal.handlerCount = 0;
}

// Keeps the visible width of a line within the terminal, with SGR styling per piece.
class LineBuilder {
public:
    explicit LineBuilder(int width)
        : m_remaining {width}
    {
    }

    void text(const QString &text, QByteArrayView style = {})
    {
        if (m_remaining <= 0 || text.isEmpty()) {
            return;
        }
        QString part = text.left(m_remaining);
        // Names come from configuration; never let them smuggle escape sequences in.
        for (QChar &c : part) {
            if (c.unicode() < 0x20 || (c.unicode() >= 0x7f && c.unicode() < 0xa0)) {
                c = QLatin1Char('?');
            }
        }
        m_remaining -= static_cast<int>(part.size());
        if (!style.isEmpty()) {
            m_bytes += "\x1b[";
            m_bytes += style;
            m_bytes += 'm';
        }
        m_bytes += part.toUtf8();
        if (!style.isEmpty()) {
            m_bytes += "\x1b[0m";
        }
    }

    void left(const QString &value, int width, QByteArrayView style = {})
    {
        QString cell = value.size() > width - 1 ? value.left(std::max(0, width - 2)) + QLatin1Char('~') : value;
        text(cell.leftJustified(width), style);
    }

    void right(const QString &value, int width, QByteArrayView style = {})
    {
        text(value.rightJustified(width), style);
    }

    void fill(QByteArrayView style)
    {
        text(QString {m_remaining, QLatin1Char(' ')}, style);
    }

    QByteArray bytes() const { return m_bytes; }

private:
    QByteArray m_bytes;
    int m_remaining;
};

QString latin1(const char *text)
{
    return QString::fromLatin1(text);
}

QString count(qint64 value)
{
    if (value < 100000) {
        return QString::number(value);
    }
    if (value < 1000000) {
        return QString::number(static_cast<double>(value) / 1e3, 'f', 1) + QLatin1Char('k');
    }
    if (value < 1000000000) {
        return QString::number(static_cast<double>(value) / 1e6, 'f', 1) + QLatin1Char('M');
    }
    return QString::number(static_cast<double>(value) / 1e9, 'f', 1) + QLatin1Char('G');
}

QString rate(double perSecond)
{
    return QString::number(perSecond, 'f', 1);
}

QString millis(double ms, qint64 requests)
{
    if (requests <= 0) {
        return latin1("-");
    }
    return QString::number(ms, 'f', ms < 10 ? 1 : 0);
}

QString errorPercent(qint64 errors, qint64 requests)
{
    if (requests <= 0) {
        return latin1("-");
    }
    return QString::number(100.0 * static_cast<double>(errors) / static_cast<double>(requests), 'f', 1)
        + QLatin1Char('%');
}

QString uptime(qint64 ms)
{
    const qint64 seconds = ms / 1000;
    const QString clock = QStringLiteral("%1:%2:%3")
                              .arg((seconds / 3600) % 24)
                              .arg((seconds / 60) % 60, 2, 10, QLatin1Char('0'))
                              .arg(seconds % 60, 2, 10, QLatin1Char('0'));
    const qint64 days = seconds / 86400;
    return days > 0 ? QStringLiteral("%1d %2").arg(days).arg(clock) : clock;
}

struct Column {
    const char *title;
    int width;
};

constexpr std::array RouteColumns {Column {"SHARE", 7},  Column {"REQ/S", 8},   Column {"INFL", 6},
                                   Column {"P50ms", 8},  Column {"P99ms", 8},   Column {"TTFT99", 8},
                                   Column {"ERRORS", 8}, Column {"ERR%", 7}};
constexpr std::array BackendColumns {Column {"TYPE", 11},   Column {"REQUESTS", 9}, Column {"REQ/S", 8},
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

int nameWidthFor(const Gateway::StatusSnapshot &snapshot, int width)
{
    int longest = 0;
    for (const Gateway::RouteStatus &route : snapshot.routes) {
        longest = std::max(longest, static_cast<int>(route.model.size()) + 1);
    }
    for (const Gateway::BackendStatus &backend : snapshot.backends) {
        longest = std::max(longest, static_cast<int>(backend.id.size()) + 3);
    }
    const int wanted = std::clamp(longest + 1, MinimumNameWidth, MaximumNameWidth);
    // On narrow terminals names give way so that at least a few numbers stay visible.
    return std::max(10, std::min(wanted, width / 2));
}

void appendRoutes(std::vector<QByteArray> &lines, const Gateway::StatusSnapshot &snapshot, int width, int nameWidth)
{
    lines.push_back(headerRow(width, latin1("ROUTE / TARGET"), nameWidth, RouteColumns));
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
            line.left(QLatin1Char(' ') + route.strategy, strategyWidth + 1, Dim);
        } else {
            line.left(model, nameWidth, Bold);
        }
        line.right(QString {}, RouteColumns[0].width);
        line.right(rate(route.requestsPerSecond), RouteColumns[1].width);
        line.right(QString {}, RouteColumns[2].width);
        line.right(millis(route.latency.p50Ms, route.requests), RouteColumns[3].width);
        line.right(millis(route.latency.p99Ms, route.requests), RouteColumns[4].width);
        line.right(millis(route.ttft.p99Ms, route.requests), RouteColumns[5].width);
        const QByteArrayView errorStyle = route.errors > 0 ? Red : QByteArrayView {};
        line.right(count(route.errors), RouteColumns[6].width, errorStyle);
        line.right(errorPercent(route.errors, route.requests), RouteColumns[7].width, errorStyle);
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
            targetLine.left(latin1("  ") + backend.id, nameWidth);
            targetLine.right(QString::number(target.share * 100, 'f', 0) + QLatin1Char('%'), RouteColumns[0].width);
            targetLine.right(rate(backend.requestsPerSecond), RouteColumns[1].width);
            targetLine.right(QString::number(backend.inFlight), RouteColumns[2].width);
            targetLine.right(millis(backend.latency.p50Ms, backend.requests), RouteColumns[3].width);
            targetLine.right(millis(backend.latency.p99Ms, backend.requests), RouteColumns[4].width);
            targetLine.right(millis(backend.ttft.p99Ms, backend.requests), RouteColumns[5].width);
            const QByteArrayView style = backend.errors > 0 ? Red : QByteArrayView {};
            targetLine.right(count(backend.errors), RouteColumns[6].width, style);
            targetLine.right(errorPercent(backend.errors, backend.requests), RouteColumns[7].width, style);
            lines.push_back(targetLine.bytes());
        }
    }
}

void appendBackends(std::vector<QByteArray> &lines, const Gateway::StatusSnapshot &snapshot, int width,
                    int nameWidth)
{
    lines.push_back(headerRow(width, latin1("BACKEND"), nameWidth, BackendColumns, 1));
    if (snapshot.backends.empty()) {
        LineBuilder line {width};
        line.text(latin1("  no backends configured"), Dim);
        lines.push_back(line.bytes());
    }
    for (const Gateway::BackendStatus &backend : snapshot.backends) {
        LineBuilder line {width};
        line.left(backend.id, nameWidth);
        line.left(QLatin1Char(' ') + backend.providerType, BackendColumns[0].width, Dim);
        line.right(count(backend.requests), BackendColumns[1].width);
        line.right(rate(backend.requestsPerSecond), BackendColumns[2].width);
        line.right(QString::number(backend.inFlight), BackendColumns[3].width);
        line.right(millis(backend.latency.p50Ms, backend.requests), BackendColumns[4].width);
        line.right(millis(backend.latency.p99Ms, backend.requests), BackendColumns[5].width);
        line.right(millis(backend.ttft.p50Ms, backend.requests), BackendColumns[6].width);
        line.right(millis(backend.ttft.p99Ms, backend.requests), BackendColumns[7].width);
        const QByteArrayView style = backend.errors > 0 ? Red : QByteArrayView {};
        line.right(count(backend.errors), BackendColumns[8].width, style);
        line.right(errorPercent(backend.errors, backend.requests), BackendColumns[9].width, style);
        line.right(count(backend.tokensIn), BackendColumns[10].width);
        line.right(count(backend.tokensOut), BackendColumns[11].width);
        lines.push_back(line.bytes());
    }
}

QString viewName(TerminalConsole::View view)
{
    switch (view) {
    case TerminalConsole::View::Routes:
        return latin1("routes");
    case TerminalConsole::View::Backends:
        return latin1("backends");
    case TerminalConsole::View::All:
        break;
    }
    return latin1("all");
}

} // namespace

TerminalConsole::TerminalConsole(const Gateway::StatusProvider &status, QObject *parent)
    : QObject {parent}
    , m_status {status}
    , m_timer {new QTimer(this)}
{
    m_timer->setInterval(RefreshIntervalMs);
    connect(m_timer, &QTimer::timeout, this, &TerminalConsole::redraw);
}

TerminalConsole::~TerminalConsole()
{
    stop();
}

bool TerminalConsole::start()
{
    if (m_active || s_terminal.owned != 0 || ::isatty(STDOUT_FILENO) == 0) {
        return false;
    }
    if (::pipe2(m_signalPipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        return false;
    }
    m_active = true;
    s_terminal.owned = 1;
    s_terminal.signalPipe = m_signalPipe[1];

    static bool exitHookInstalled = false;
    if (!exitHookInstalled) {
        // Covers exit() paths that skip destructors; leaveTerminal() is a no-op when
        // the terminal was already given back.
        exitHookInstalled = std::atexit([] { leaveTerminal(); }) == 0;
    }

    s_terminal.haveOriginal = (::isatty(STDIN_FILENO) != 0 && ::tcgetattr(STDIN_FILENO, &s_terminal.original) == 0) ? 1 : 0;
    installHandlers();

    m_signalNotifier = new QSocketNotifier(m_signalPipe[0], QSocketNotifier::Read, this);
    connect(m_signalNotifier, &QSocketNotifier::activated, this, &TerminalConsole::readSignals);
    if (s_terminal.haveOriginal != 0) {
        m_keyNotifier = new QSocketNotifier(STDIN_FILENO, QSocketNotifier::Read, this);
        connect(m_keyNotifier, &QSocketNotifier::activated, this, &TerminalConsole::readKeys);
    }

    enterTerminalMode();
    readTerminalSize();
    redraw();
    m_timer->start();
    return true;
}

void TerminalConsole::stop()
{
    if (!m_active) {
        return;
    }
    m_active = false;
    m_timer->stop();
    // stop() may run from inside a notifier's own signal (q -> quit -> stop), so the
    // notifiers are disabled now, which unregisters the fds, and deleted later.
    for (QSocketNotifier **notifier : {&m_keyNotifier, &m_signalNotifier}) {
        if (*notifier != nullptr) {
            (*notifier)->setEnabled(false);
            (*notifier)->deleteLater();
            *notifier = nullptr;
        }
    }
    uninstallHandlers();
    s_terminal.signalPipe = -1;
    for (int &fd : m_signalPipe) {
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
    }
    leaveTerminal();
    s_terminal.owned = 0;
}

void TerminalConsole::enterTerminalMode()
{
    if (s_terminal.haveOriginal != 0) {
        termios mode = s_terminal.original;
        // Keys arrive one at a time without echo; ISIG stays on so Ctrl+C still reaches
        // the application's own shutdown handling. IXON off: Ctrl+S must not freeze output.
        mode.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
        mode.c_iflag &= ~static_cast<tcflag_t>(IXON);
        mode.c_cc[VMIN] = 1;
        mode.c_cc[VTIME] = 0;
        s_terminal.modeApplied = 1;
        ::tcsetattr(STDIN_FILENO, TCSANOW, &mode);
    }
    s_terminal.screenEntered = 1;
    writeAll(STDOUT_FILENO, EnterSequence);
}

void TerminalConsole::readTerminalSize()
{
    winsize size {};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 && size.ws_row > 0) {
        m_width = size.ws_col;
        m_height = size.ws_row;
    }
}

void TerminalConsole::readSignals()
{
    bool resized = false;
    bool resumed = false;
    char buffer[32];
    for (;;) {
        const ssize_t received = ::read(m_signalPipe[0], buffer, sizeof buffer);
        if (received <= 0) {
            break;
        }
        for (ssize_t i = 0; i < received; ++i) {
            resized = resized || buffer[i] == SIGWINCH;
            resumed = resumed || buffer[i] == SIGCONT;
        }
    }
    if (resumed) {
        // Back from Ctrl+Z (or a SIGSTOP): the shell has had the terminal meanwhile.
        enterTerminalMode();
    }
    if (resized || resumed) {
        readTerminalSize();
        redraw();
    }
}

void TerminalConsole::readKeys()
{
    char buffer[64];
    const ssize_t received = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (received == 0 || (received < 0 && errno != EINTR && errno != EAGAIN)) {
        // End of input or a hung-up terminal: stop polling it rather than spin.
        m_keyNotifier->setEnabled(false);
        return;
    }
    for (ssize_t i = 0; i < received; ++i) {
        switch (buffer[i]) {
        case 'q':
        case 'Q':
            // Whoever handles this may stop or delete us; touch nothing afterwards.
            emit quitRequested();
            return;
        case 'r':
        case 'R':
            m_view = m_view == View::All ? View::Routes : m_view == View::Routes ? View::Backends : View::All;
            redraw();
            break;
        // Direct keys, as the window's Ctrl+1..3: no cycling to reach a view.
        case '1':
            m_view = View::All;
            redraw();
            break;
        case '2':
            m_view = View::Routes;
            redraw();
            break;
        case '3':
            m_view = View::Backends;
            redraw();
            break;
        case '\x0c': // Ctrl+L, the usual "repaint" key, for when stray output got through
            writeAll(STDOUT_FILENO, QByteArrayView {"\x1b[2J"});
            redraw();
            break;
        default:
            break;
        }
    }
}

void TerminalConsole::redraw()
{
    if (!m_active) {
        return;
    }
    const QByteArray frame = renderFrame(m_status.statusSnapshot(), m_width, m_height, m_view, m_adminToken);
    QByteArray out;
    out.reserve(frame.size() + FrameBegin.size() + FrameEnd.size());
    out += FrameBegin;
    out += frame;
    out += FrameEnd;
    writeAll(STDOUT_FILENO, out);
}

QByteArray TerminalConsole::renderFrame(const Gateway::StatusSnapshot &snapshot, int width, int height, View view,
                                        const QByteArray &adminToken)
{
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
    if (view != View::Backends) {
        appendRoutes(lines, snapshot, width, nameWidth);
    }
    if (view == View::All) {
        lines.emplace_back();
    }
    if (view != View::Routes) {
        appendBackends(lines, snapshot, width, nameWidth);
    }

    // The last row is the key help; the body gets the rest and says what it cut.
    const auto bodyRows = static_cast<std::size_t>(height - 1);
    if (lines.size() > bodyRows) {
        const std::size_t kept = bodyRows > 0 ? bodyRows - 1 : 0;
        const std::size_t hidden = lines.size() - kept;
        lines.resize(kept);
        if (bodyRows > 0) {
            LineBuilder line {width};
            line.text(QStringLiteral("  ... %1 more lines (enlarge the terminal or press r)").arg(hidden), Dim);
            lines.push_back(line.bytes());
        }
    }
    while (lines.size() < bodyRows) {
        lines.emplace_back();
    }
    {
        LineBuilder line {width};
        line.text(QStringLiteral(" q quit  r/1-3 view: %1  ^L repaint").arg(viewName(view)), Dim);
        lines.push_back(line.bytes());
    }

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
