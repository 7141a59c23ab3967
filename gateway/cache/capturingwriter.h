#pragma once

#include "http/responsewriter.h"

#include <QByteArray>
#include <QObject>

#include <functional>

namespace Gateway::Cache {

// The client side of a request the gateway sends to itself (the semantic cache's
// embeddings request): an exchange answers into it as into a socket, and the answer is
// kept. Completion is posted to `context`'s thread, never called inside the exchange
// that finished (which is still on the stack and may not be destroyed yet).
class CapturingWriter final : public Http::ResponseWriter {
public:
    CapturingWriter(QObject &context, std::function<void()> completed, qsizetype maxBodyBytes);

    void writeHead(int status, const Http::HeaderList &headers, qint64 contentLength) override;
    void writeBody(QByteArrayView data) override;
    void finish() override;
    void abort() override;
    bool headSent() const override { return m_status != 0; }
    qint64 pendingBytes() const override { return 0; }
    void setDrainedCallback(std::function<void()> callback) override { (void)callback; }

    int status() const { return m_status; }
    const QByteArray &body() const { return m_body; }
    bool complete() const { return m_finished && !m_aborted && !m_overflow; }

private:
    void done();

    QObject &m_context;
    std::function<void()> m_completed;
    qsizetype m_maxBodyBytes;
    int m_status = 0;
    QByteArray m_body;
    bool m_finished = false;
    bool m_aborted = false;
    bool m_overflow = false;
};

} // namespace Gateway::Cache
