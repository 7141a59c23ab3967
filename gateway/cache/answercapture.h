#pragma once

#include "requestkey.h"
#include "routecache.h"

#include <QByteArray>
#include <QByteArrayView>

#include <memory>
#include <vector>

namespace Gateway::Cache {

// A cached route's request on its way upstream (a miss, or a bypass): says so in the
// response header and request log, collects what the client receives and, when the
// answer completed with a 2xx, stores it. The exchange calls it from a few places:
// appendStream() with every chunk it writes, setWholeAnswer() for a buffered answer,
// discard() when the answer is not one piece (a resumed stream), complete() at the end.
class AnswerCapture final {
public:
    // `header`: "miss" or "bypass"; `store` false for cache-control: no-store.
    AnswerCapture(std::shared_ptr<RouteCache> cache, RequestKey key, QByteArray header, bool store,
                  std::vector<float> unitVector = {});

    const QByteArray &header() const { return m_header; }
    void appendStream(QByteArrayView data);
    void setWholeAnswer(QByteArrayView contentType, const QByteArray &body);
    void discard() { m_storing = false; }
    void complete(int status, qint64 tokensIn, qint64 tokensOut, qint64 costNanos);

private:
    std::shared_ptr<RouteCache> m_cache;
    RequestKey m_key;
    QByteArray m_header;
    bool m_storing;
    std::vector<float> m_unitVector;
    bool m_stream = true;
    QByteArray m_contentType;
    QByteArray m_body;
    qint64 m_maxBytes;
};

} // namespace Gateway::Cache
