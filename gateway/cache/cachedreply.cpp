#include "cachedreply.h"

#include "proxy/governancegate.h"
#include "proxy/workercontext.h"

#include <QDateTime>

namespace Gateway::Cache {

namespace {

double millisecondsSince(Proxy::ProxyExchange::Clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(Proxy::ProxyExchange::Clock::now() - start).count();
}

void settleAtZero(Proxy::WorkerContext &worker, Proxy::ProxyExchange::Setup &setup)
{
    Proxy::GovernanceGate::Charge charge;
    charge.route = setup.route->model;
    Proxy::GovernanceGate {worker.environment()}.settle(setup.reservation, charge);
}

} // namespace

void replyFromCache(Proxy::WorkerContext &worker, Proxy::ProxyExchange::Setup &setup, Http::ResponseWriter &writer,
                    RouteCache &cache, const CachedAnswer &answer, QByteArrayView header)
{
    Http::HeaderList headers {{QByteArrayLiteral("x-switchyard-request-id"), setup.requestId},
                              {QByteArrayLiteral("x-switchyard-cache"), header.toByteArray()},
                              {QByteArrayLiteral("content-type"), answer.contentType}};
    if (answer.stream) {
        // Chunked, as the original stream was: an SSE client reads it event by event.
        headers.push_back({QByteArrayLiteral("cache-control"), QByteArrayLiteral("no-cache")});
        writer.writeHead(200, headers, -1);
        writer.writeBody(answer.body);
        writer.finish();
    } else {
        writer.respond(200, headers, answer.body);
    }
    cache.countSaving(answer);
    settleAtZero(worker, setup);

    const double latencyMs = millisecondsSince(setup.receivedAt);
    Metrics::RouteStats &route = *setup.route->stats;
    route.requests.fetch_add(1, std::memory_order_relaxed);
    route.latency.observeMs(latencyMs);
    route.ttft.observeMs(latencyMs);
    RequestLogSink *log = worker.environment().requestLog;
    if (log && setup.table->policy().requestLog.enabled) {
        RequestLogEntry entry;
        entry.finishedAtMs = QDateTime::currentMSecsSinceEpoch();
        entry.requestId = setup.requestId;
        entry.virtualKey = setup.virtualKey;
        entry.route = setup.route->model;
        entry.endpoint = setup.request.path;
        entry.status = 200;
        entry.latencyMs = latencyMs;
        entry.ttftMs = latencyMs;
        entry.tokensIn = 0; // nothing went upstream
        entry.tokensOut = 0;
        entry.stream = setup.inspected.stream;
        entry.cache = header.toByteArray();
        log->record(std::move(entry));
    }
}

void abandonUnanswered(Proxy::WorkerContext &worker, Proxy::ProxyExchange::Setup &setup)
{
    settleAtZero(worker, setup);
    Metrics::RouteStats &route = *setup.route->stats;
    route.requests.fetch_add(1, std::memory_order_relaxed);
    route.errors[static_cast<std::size_t>(Metrics::ErrorClass::ClientClosed)].fetch_add(1, std::memory_order_relaxed);
}

} // namespace Gateway::Cache
