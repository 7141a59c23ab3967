#pragma once

#include "cachedanswer.h"
#include "routecache.h"

#include "proxy/proxyexchange.h"

#include <QByteArrayView>

namespace Gateway::Proxy {
class WorkerContext;
}

namespace Gateway::Cache {

// Answers a request from the cache, as the upstream's answer was sent (a stream replayed
// as a stream), with x-switchyard-cache: `header`. The request was authenticated,
// permitted and reserved like any other: the reservation is settled at zero tokens and
// $0, the route counts a request, the request log gets a row with the cache flag, and
// the route's cache counts what the hit saved.
void replyFromCache(Proxy::WorkerContext &worker, Proxy::ProxyExchange::Setup &setup, Http::ResponseWriter &writer,
                    RouteCache &cache, const CachedAnswer &answer, QByteArrayView header);

// A request that ends before it was answered or handed to an exchange (the client left
// while its prompt was being embedded): settles its reservation at zero and counts it.
void abandonUnanswered(Proxy::WorkerContext &worker, Proxy::ProxyExchange::Setup &setup);

} // namespace Gateway::Cache
