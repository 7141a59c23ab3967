#include "semanticlookup.h"

#include "answercapture.h"
#include "cachedreply.h"

#include "proxy/workercontext.h"
#include "util/jsonwriter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace Gateway::Cache {

namespace {

// An embeddings answer is a few KB to a few hundred (3,072 floats as text).
constexpr qsizetype MAX_EMBEDDING_ANSWER_BYTES = 4 * 1024 * 1024;

} // namespace

SemanticLookup::SemanticLookup(Proxy::WorkerContext &worker, Proxy::ProxyExchange::Setup &&setup,
                               Http::ResponseWriter &writer, std::shared_ptr<RouteCache> cache, RequestKey key)
    : m_worker {worker}
    , m_setup {std::move(setup)}
    , m_writer {writer}
    , m_cache {std::move(cache)}
    , m_key {std::move(key)}
    , m_context {std::make_unique<QObject>()}
{
}

SemanticLookup::~SemanticLookup()
{
    m_exchange.reset();
    m_embedding.reset();
    if (!m_handedOver) {
        abandonUnanswered(m_worker, m_setup);
    }
}

void SemanticLookup::start()
{
    const auto &table = *m_setup.table;
    const Runtime::RouteRuntime *route = table.findRoute(m_cache->settings().semantic.embeddingsRoute);
    Http::Request request;
    request.method = QByteArrayLiteral("POST");
    request.path = QByteArrayLiteral("/v1/embeddings");
    request.headers.push_back({QByteArrayLiteral("content-type"), QByteArrayLiteral("application/json")});
    request.body = "{\"model\":" + Json::quoted(m_cache->settings().semantic.embeddingsRoute) +
                   ",\"input\":" + Json::quoted(m_key.lastUserText.toUtf8()) + '}';
    if (!route) {
        QMetaObject::invokeMethod(m_context.get(), [this] { embedded(); }, Qt::QueuedConnection);
        return;
    }
    auto inspected = m_worker.inspector().inspect(Runtime::Endpoint::Embeddings, request.body, false, table.promptBlockChars());
    if (!inspected) {
        QMetaObject::invokeMethod(m_context.get(), [this] { embedded(); }, Qt::QueuedConnection);
        return;
    }
    Proxy::ProxyExchange::Setup setup;
    setup.table = m_setup.table;
    setup.route = route;
    setup.endpoint = Runtime::Endpoint::Embeddings;
    setup.request = std::move(request);
    setup.inspected = std::move(inspected).value();
    setup.requestId = m_worker.nextRequestId();
    // The client's text goes to the embeddings route: under the client's key name in the
    // request log, and only within the regions the client's request may use.
    setup.virtualKey = m_setup.virtualKey;
    setup.receivedAt = Proxy::ProxyExchange::Clock::now();
    setup.regions = m_setup.regions.intersected(route->regions);
    m_embeddingWriter = std::make_unique<CapturingWriter>(*m_context, [this] { embedded(); }, MAX_EMBEDDING_ANSWER_BYTES);
    m_embedding = std::make_unique<Proxy::ProxyExchange>(m_worker, std::move(setup), *m_embeddingWriter);
    // A refusal at start is written into the writer, whose completion is posted.
    m_embedding->start();
}

std::vector<float> SemanticLookup::parseEmbedding() const
{
    if (!m_embeddingWriter || !m_embeddingWriter->complete() || m_embeddingWriter->status() != 200) {
        return {};
    }
    const QJsonArray values = QJsonDocument::fromJson(m_embeddingWriter->body())
                                  .object()
                                  .value(QLatin1String("data"))
                                  .toArray()
                                  .at(0)
                                  .toObject()
                                  .value(QLatin1String("embedding"))
                                  .toArray();
    std::vector<float> vector;
    vector.reserve(static_cast<std::size_t>(values.size()));
    for (const QJsonValue &value : values) {
        if (!value.isDouble()) {
            return {};
        }
        vector.push_back(static_cast<float>(value.toDouble()));
    }
    return SemanticIndex::normalised(std::move(vector));
}

void SemanticLookup::embedded()
{
    std::vector<float> unitVector = parseEmbedding();
    m_embedding.reset(); // its completion was posted: it has returned
    if (unitVector.empty()) {
        qWarning("semantic cache of route '%s': the embeddings request to '%s' failed (status %d); the request goes "
                 "upstream uncached",
                 m_setup.route->model.constData(), m_cache->settings().semantic.embeddingsRoute.constData(),
                 m_embeddingWriter ? m_embeddingWriter->status() : 0);
        m_cache->counters().count(CacheKind::Semantic, LookupResult::Bypass);
        proceed({}, QByteArrayLiteral("miss"));
        return;
    }
    if (const auto match = m_cache->findSemantic(m_key.context, unitVector, m_cache->nowMs())) {
        m_handedOver = true;
        replyFromCache(m_worker, m_setup, m_writer, *m_cache, *match->answer, "semantic-hit");
        return;
    }
    proceed(std::move(unitVector), QByteArrayLiteral("miss"));
}

void SemanticLookup::proceed(std::vector<float> unitVector, QByteArray header)
{
    m_setup.cache = std::make_unique<AnswerCapture>(m_cache, m_key, std::move(header), true, std::move(unitVector));
    m_handedOver = true;
    m_exchange = std::make_unique<Proxy::ProxyExchange>(m_worker, std::move(m_setup), m_writer);
    m_exchange->start(); // false: it has answered already (the connection then ends this)
}

} // namespace Gateway::Cache
