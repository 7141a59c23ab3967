#include "cachesettings.h"

namespace Gateway::Cache {

QLatin1String cacheScopeName(CacheScope scope)
{
    switch (scope) {
    case CacheScope::Key:
        return QLatin1String("key");
    case CacheScope::Team:
        return QLatin1String("team");
    case CacheScope::Global:
        return QLatin1String("global");
    }
    return QLatin1String("key");
}

std::optional<CacheScope> parseCacheScope(const QString &name)
{
    for (const CacheScope scope : {CacheScope::Key, CacheScope::Team, CacheScope::Global}) {
        if (name == cacheScopeName(scope)) {
            return scope;
        }
    }
    return std::nullopt;
}

} // namespace Gateway::Cache
