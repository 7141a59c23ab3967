#include "capturingwriter.h"

namespace Gateway::Cache {

CapturingWriter::CapturingWriter(QObject &context, std::function<void()> completed, qsizetype maxBodyBytes)
    : m_context {context}
    , m_completed {std::move(completed)}
    , m_maxBodyBytes {maxBodyBytes}
{
}

void CapturingWriter::writeHead(int status, const Http::HeaderList &headers, qint64 contentLength)
{
    (void)headers;
    (void)contentLength;
    m_status = status;
}

void CapturingWriter::writeBody(QByteArrayView data)
{
    if (m_body.size() + data.size() > m_maxBodyBytes) {
        m_overflow = true;
        return;
    }
    m_body.append(data.data(), data.size());
}

void CapturingWriter::finish()
{
    done();
}

void CapturingWriter::abort()
{
    m_aborted = true;
    done();
}

void CapturingWriter::done()
{
    if (m_finished) {
        return;
    }
    m_finished = true;
    QMetaObject::invokeMethod(&m_context, m_completed, Qt::QueuedConnection);
}

} // namespace Gateway::Cache
