#pragma once

#include "requesthandler.h"
#include "requestparser.h"
#include "responsewriter.h"
#include "serverlimits.h"

#include <QObject>

#include <chrono>

#include <memory>


namespace Gateway::Http {

class ConnectionSweeper;
class StreamSocket;

// One inbound HTTP/1.x connection: owns the socket, feeds the parser, enforces the
// limits and timeouts, hands each complete request to the handler and writes the
// response it produces. Lives on one worker thread.
class Connection final : public QObject, private ResponseWriter {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Connection)

public:
    Connection(qintptr socketDescriptor, RequestHandler &handler, const ServerLimits &limits,
               ServerCounters &counters, ConnectionSweeper &sweeper, QObject *parent);
    ~Connection() override;

    // Graceful shutdown: close once the current response (if any) is done.
    void closeWhenIdle();

    // Called by the sweeper: acts on a header, body or idle deadline that has passed.
    void checkDeadline(std::chrono::steady_clock::time_point now);
    // Called by the sweeper once the exchange that finished the response has returned.
    void onResponseFinished();

private:
    enum class Deadline { None, Head, Body, Idle };

    void onReadyRead();
    void processInput();
    void dispatch(Request &&request);
    void rejectRequest(int status, QByteArrayView message);
    void onDeadline();
    void onBytesWritten();
    void onDisconnected();
    void armDeadline(Deadline deadline);
    void write(QByteArrayView data);

    // ResponseWriter
    void writeHead(int status, const HeaderList &headers, qint64 contentLength) override;
    void writeBody(QByteArrayView data) override;
    void finish() override;
    void abort() override;
    bool headSent() const override { return m_headSent; }
    qint64 pendingBytes() const override;
    void setDrainedCallback(std::function<void()> callback) override { m_drained = std::move(callback); }

    StreamSocket *m_socket;
    RequestHandler &m_handler;
    const ServerLimits &m_limits;
    ServerCounters &m_counters;
    RequestParser m_parser;
    QByteArray m_input; // received bytes not yet consumed by the parser
    std::unique_ptr<Exchange> m_exchange;
    std::function<void()> m_drained;
    ConnectionSweeper &m_sweeper;
    Deadline m_deadline = Deadline::None;
    std::chrono::steady_clock::time_point m_deadlineAt;

    int m_requestVersionMinor = 1;
    bool m_requestKeepAlive = true;
    bool m_responding = false;      // a request is being answered
    bool m_inHandler = false;       // inside m_handler.handle()
    bool m_finishPending = false;   // finish() called, cleanup not yet run
    bool m_headSent = false;
    bool m_chunked = false;
    bool m_closeAfterResponse = false;
    bool m_congested = false;
    bool m_continueSent = false;
    bool m_closing = false;
    bool m_closeWhenIdle = false;
};

} // namespace Gateway::Http
