#pragma once

#include "redactor.h"

#include <QMutex>
#include <QtMessageHandler>

#include <memory>

namespace Gateway::Safety {

// The redaction patterns of the policy in force, for sinks that outlive policies (the
// log writer's thread, the process's log lines). set() on every apply; current() takes
// a short lock, so readers fetch it once per batch or per log line, never per field.
class RedactorSlot final {
public:
    void set(std::shared_ptr<const Redactor> redactor);
    std::shared_ptr<const Redactor> current() const;

private:
    mutable QMutex m_mutex;
    std::shared_ptr<const Redactor> m_redactor;
};

// Redacts the process's own log lines (qDebug ... qFatal) before the handler that was
// installed before it sees them: a log line quoting an upstream body or a client's field
// never shows a secret. Qt has one message handler per process, so at most one filter
// may exist at a time; destroying it puts the previous handler back.
class LogLineRedaction final {
public:
    explicit LogLineRedaction(std::shared_ptr<const RedactorSlot> slot);
    ~LogLineRedaction();
    LogLineRedaction(const LogLineRedaction &) = delete;
    LogLineRedaction &operator=(const LogLineRedaction &) = delete;

private:
    static void handle(QtMsgType type, const QMessageLogContext &context, const QString &message);
};

} // namespace Gateway::Safety
