#include "terminalconsole.h"

#include "runtime/statussnapshot.h"

#include <QDateTime>

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

} // namespace

TerminalConsole::TerminalConsole(const Gateway::StatusProvider &status, QObject *parent)
    : QObject {parent}
    , m_status {status}
    , m_timer {new QTimer(this)}
{
    m_timer->setInterval(RefreshIntervalMs);
    connect(m_timer, &QTimer::timeout, this, &TerminalConsole::refresh);
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
    refresh();
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
            m_view = nextTerminalView(m_view);
            redraw();
            break;
        case '\x0c': // Ctrl+L, the usual "repaint" key, for when stray output got through
            writeAll(STDOUT_FILENO, QByteArrayView {"\x1b[2J"});
            redraw();
            break;
        default:
            // Direct keys 1-4, like the window's Ctrl+1..: no cycling to reach a view.
            if (const auto view = terminalViewForKey(buffer[i])) {
                m_view = *view;
                redraw();
            }
            break;
        }
    }
}

void TerminalConsole::refresh()
{
    // Budgets are read on the timer only, whatever the view, so burn rates keep their
    // history and a key press or resize adds no reading.
    m_budgets = m_budgetTracker.update(m_status.budgetStatus());
    redraw();
}

void TerminalConsole::redraw()
{
    if (!m_active) {
        return;
    }
    const Gateway::StatusSnapshot snapshot = m_status.statusSnapshot();
    const TerminalFrameInput input {snapshot, m_budgets, QDateTime::currentMSecsSinceEpoch(), m_adminToken};
    const QByteArray frame = renderTerminalFrame(input, m_width, m_height, m_view);
    QByteArray out;
    out.reserve(frame.size() + FrameBegin.size() + FrameEnd.size());
    out += FrameBegin;
    out += frame;
    out += FrameEnd;
    writeAll(STDOUT_FILENO, out);
}

} // namespace App
