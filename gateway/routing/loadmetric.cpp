#include "loadmetric.h"

namespace Gateway::Routing {

std::optional<LoadMetric> loadMetricFromName(std::string_view name)
{
    if (name == "tokens") {
        return LoadMetric::Tokens;
    }
    if (name == "requests") {
        return LoadMetric::Requests;
    }
    return std::nullopt;
}

std::string_view loadMetricName(LoadMetric metric)
{
    return metric == LoadMetric::Tokens ? "tokens" : "requests";
}

} // namespace Gateway::Routing
