#pragma once

#include "runtime/requestlog.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QList>

#include <mutex>
#include <vector>

namespace TestSupport {

// A request-log sink that keeps only the gateway's events (health, discovery, engine
// restarts...), for tests that check what an operator would see in the events view.
class RecordingEventLog final : public Gateway::RequestLogSink {
public:
    void record(Gateway::RequestLogEntry &&) override {}
    void recordEvent(QString kind, QString subject, QByteArray detailJson) override
    {
        const std::lock_guard lock {m_mutex};
        m_events.push_back({std::move(kind), std::move(subject), std::move(detailJson)});
    }
    quint64 writtenRows() const override { return 0; }
    quint64 droppedRows() const override { return 0; }

    // Detail JSON of each event of this kind, oldest first.
    QList<QJsonObject> events(const QString &kind) const
    {
        const std::lock_guard lock {m_mutex};
        QList<QJsonObject> out;
        for (const auto &event : m_events) {
            if (event.kind == kind) {
                out << QJsonDocument::fromJson(event.detail).object();
            }
        }
        return out;
    }

private:
    struct Event {
        QString kind;
        QString subject;
        QByteArray detail;
    };
    mutable std::mutex m_mutex;
    std::vector<Event> m_events;
};

} // namespace TestSupport
