#include "redactorslot.h"

#include <atomic>
#include <cstdio>

namespace Gateway::Safety {

namespace {

// Qt's message handler is a plain function: it finds the patterns and the handler it
// forwards to here. A line being handled on another thread while the filter goes keeps
// its own reference to the slot.
std::atomic<std::shared_ptr<const RedactorSlot>> installedSlot;
std::atomic<QtMessageHandler> previousHandler {nullptr};

} // namespace

void RedactorSlot::set(std::shared_ptr<const Redactor> redactor)
{
    const QMutexLocker lock {&m_mutex};
    m_redactor = std::move(redactor);
}

std::shared_ptr<const Redactor> RedactorSlot::current() const
{
    const QMutexLocker lock {&m_mutex};
    return m_redactor;
}

LogLineRedaction::LogLineRedaction(std::shared_ptr<const RedactorSlot> slot)
{
    Q_ASSERT(installedSlot.load() == nullptr);
    installedSlot.store(std::move(slot));
    previousHandler.store(qInstallMessageHandler(&LogLineRedaction::handle));
}

LogLineRedaction::~LogLineRedaction()
{
    qInstallMessageHandler(previousHandler.load());
    installedSlot.store(nullptr);
}

void LogLineRedaction::handle(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    const std::shared_ptr<const RedactorSlot> slot = installedSlot.load();
    const std::shared_ptr<const Redactor> redactor = slot ? slot->current() : nullptr;
    const QString shown = redactor ? redactor->redacted(message) : message;
    if (const QtMessageHandler previous = previousHandler.load()) {
        previous(type, context, shown);
    } else {
        // Qt's default output; qFormatLogMessage applies QT_MESSAGE_PATTERN as Qt would.
        const QByteArray line = qFormatLogMessage(type, context, shown).toLocal8Bit() + '\n';
        fwrite(line.constData(), 1, static_cast<std::size_t>(line.size()), stderr);
        fflush(stderr);
    }
}

} // namespace Gateway::Safety
