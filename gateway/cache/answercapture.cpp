#include "answercapture.h"

#include <algorithm>

namespace Gateway::Cache {

namespace {

// A route with only a semantic cache has no byte bound of its own: answers larger than
// this are not kept.
constexpr qint64 MAX_SEMANTIC_ANSWER_BYTES = 8LL * 1024 * 1024;

} // namespace

AnswerCapture::AnswerCapture(std::shared_ptr<RouteCache> cache, RequestKey key, QByteArray header, bool store,
                             std::vector<float> unitVector)
    : m_cache {std::move(cache)}
    , m_key {std::move(key)}
    , m_header {std::move(header)}
    , m_storing {store}
    , m_unitVector {std::move(unitVector)}
    , m_maxBytes {m_cache->exact() ? m_cache->settings().exact.maxBytes : MAX_SEMANTIC_ANSWER_BYTES}
{
}

void AnswerCapture::appendStream(QByteArrayView data)
{
    if (!m_storing) {
        return;
    }
    if (m_body.size() + data.size() > m_maxBytes) {
        m_storing = false; // could never be stored: stop copying
        m_body = QByteArray();
        return;
    }
    m_stream = true;
    m_body.append(data.data(), data.size());
}

void AnswerCapture::setWholeAnswer(QByteArrayView contentType, const QByteArray &body)
{
    m_stream = false;
    m_contentType = contentType.toByteArray();
    m_body = body;
}

void AnswerCapture::complete(int status, qint64 tokensIn, qint64 tokensOut, qint64 costNanos)
{
    if (!m_storing || status < 200 || status >= 300 || m_body.isEmpty()) {
        return;
    }
    m_storing = false;
    auto answer = std::make_shared<CachedAnswer>();
    answer->stream = m_stream;
    answer->contentType = m_stream ? QByteArrayLiteral("text/event-stream") : m_contentType;
    answer->body = std::move(m_body);
    answer->tokensIn = std::max<qint64>(0, tokensIn);
    answer->tokensOut = std::max<qint64>(0, tokensOut);
    answer->costNanos = std::max<qint64>(0, costNanos);
    const qint64 now = m_cache->nowMs();
    answer->storedAtMs = now;
    m_cache->store(m_key, answer, std::move(m_unitVector), now);
}

} // namespace Gateway::Cache
