#pragma once

#include "capturingwriter.h"
#include "requestkey.h"
#include "routecache.h"

#include "proxy/proxyexchange.h"

#include <QObject>

#include <memory>
#include <vector>

namespace Gateway::Proxy {
class WorkerContext;
}

namespace Gateway::Cache {

// A request on a route with a semantic cache, after its exact lookup missed: embeds its
// last user message by sending an embeddings request to the route's embeddings_route
// through the gateway's own routing (a ProxyExchange answering into a CapturingWriter:
// planning, retries, failover, key pools and metrics as for any request), without
// blocking the worker. Then either answers from the most similar stored answer at or
// above the threshold, or hands the request to a ProxyExchange whose answer is stored
// with the embedding. If the embedding fails the request goes upstream uncached
// (counted as a semantic bypass). Destroying it (the client left) cancels whichever
// exchange is running.
class SemanticLookup final : public Http::Exchange {
public:
    SemanticLookup(Proxy::WorkerContext &worker, Proxy::ProxyExchange::Setup &&setup, Http::ResponseWriter &writer,
                   std::shared_ptr<RouteCache> cache, RequestKey key);
    ~SemanticLookup() override;
    SemanticLookup(const SemanticLookup &) = delete;
    SemanticLookup &operator=(const SemanticLookup &) = delete;

    void start();

private:
    void embedded();
    // The embedding's unit vector from the captured answer; empty when it failed.
    std::vector<float> parseEmbedding() const;
    void proceed(std::vector<float> unitVector, QByteArray header);

    Proxy::WorkerContext &m_worker;
    Proxy::ProxyExchange::Setup m_setup;
    Http::ResponseWriter &m_writer;
    std::shared_ptr<RouteCache> m_cache;
    RequestKey m_key;
    bool m_handedOver = false; // answered, or m_exchange owns the setup
    // Declared before what posts to it: destroyed last, dropping completions on their way.
    std::unique_ptr<QObject> m_context;
    std::unique_ptr<CapturingWriter> m_embeddingWriter;
    std::unique_ptr<Proxy::ProxyExchange> m_embedding; // before its writer is gone
    std::unique_ptr<Proxy::ProxyExchange> m_exchange;
};

} // namespace Gateway::Cache
