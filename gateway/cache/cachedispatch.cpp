#include "cachedispatch.h"

#include "answercapture.h"
#include "cachedreply.h"
#include "cacheregistry.h"
#include "semanticlookup.h"

#include "proxy/workercontext.h"

namespace Gateway::Cache {

namespace {

std::unique_ptr<Http::Exchange> startProxy(Proxy::WorkerContext &worker, Proxy::ProxyExchange::Setup &&setup,
                                           Http::ResponseWriter &writer)
{
    auto exchange = std::make_unique<Proxy::ProxyExchange>(worker, std::move(setup), writer);
    if (!exchange->start()) {
        return nullptr;
    }
    return exchange;
}

// Whose answers this request may be served: its key's, its team's (a key without a team
// shares with no other key), or everyone's. An open gateway (no keys) has one scope.
QByteArray scopeOf(const RouteCacheSettings &settings, const Proxy::ProxyExchange::Setup &setup)
{
    if (settings.scope == CacheScope::Global || setup.virtualKey.isEmpty()) {
        return QByteArrayLiteral("*");
    }
    if (settings.scope == CacheScope::Team) {
        const Runtime::VirtualKeyRuntime *key = setup.table->findVirtualKeyByName(setup.virtualKey);
        if (key && !key->subject.team.isEmpty()) {
            return "team:" + key->subject.team.toUtf8();
        }
    }
    return "key:" + setup.virtualKey.toUtf8();
}

void countBypass(RouteCache &cache)
{
    if (cache.exact()) {
        cache.counters().count(CacheKind::Exact, LookupResult::Bypass);
    }
    if (cache.semantic()) {
        cache.counters().count(CacheKind::Semantic, LookupResult::Bypass);
    }
}

} // namespace

std::unique_ptr<Http::Exchange> startExchange(Proxy::WorkerContext &worker, Proxy::ProxyExchange::Setup &&setup,
                                              Http::ResponseWriter &writer)
{
    const CacheRegistry *registry = worker.environment().cache;
    std::shared_ptr<RouteCache> cache = registry ? registry->find(setup.route->model) : nullptr;
    if (!cache) {
        return startProxy(worker, std::move(setup), writer);
    }
    RequestKey key = buildRequestKey(setup.endpoint, setup.request.body, setup.route->model, scopeOf(cache->settings(), setup));
    if (!key.valid) {
        return startProxy(worker, std::move(setup), writer);
    }
    const QByteArray control = setup.request.header("cache-control").toLower();
    const bool noStore = control.contains("no-store");
    if (noStore || control.contains("no-cache")) {
        countBypass(*cache);
        setup.cache = std::make_unique<AnswerCapture>(std::move(cache), std::move(key), QByteArrayLiteral("bypass"), !noStore);
        return startProxy(worker, std::move(setup), writer);
    }
    if (const AnswerPtr answer = cache->findExact(key, cache->nowMs())) {
        replyFromCache(worker, setup, writer, *cache, *answer, "hit");
        return nullptr;
    }
    if (cache->semantic() && !key.lastUserText.isEmpty()) {
        auto lookup = std::make_unique<SemanticLookup>(worker, std::move(setup), writer, std::move(cache), std::move(key));
        lookup->start();
        return lookup;
    }
    setup.cache = std::make_unique<AnswerCapture>(std::move(cache), std::move(key), QByteArrayLiteral("miss"), true);
    return startProxy(worker, std::move(setup), writer);
}

} // namespace Gateway::Cache
