#pragma once

#include <QObject>

class QSocketNotifier;

namespace App {

// Turns SIGINT/SIGTERM into a Qt signal. The handler only writes a byte to a pipe
// (async-signal-safe); the event loop reads it, so no Qt code runs in signal context.
class UnixSignals final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UnixSignals)

public:
    explicit UnixSignals(QObject *parent = nullptr);
    ~UnixSignals() override;

Q_SIGNALS:
    void terminationRequested(int signalNumber);

private:
    void onReadable();

    QSocketNotifier *m_notifier = nullptr;
};

} // namespace App
