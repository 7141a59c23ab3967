#include "errorclass.h"

namespace Gateway::Metrics {

QByteArrayView errorClassName(ErrorClass errorClass)
{
    switch (errorClass) {
    case ErrorClass::BadRequest: return "bad_request";
    case ErrorClass::Unauthorized: return "unauthorized";
    case ErrorClass::NotFound: return "not_found";
    case ErrorClass::RateLimited: return "rate_limited";
    case ErrorClass::UpstreamClientError: return "upstream_client_error";
    case ErrorClass::UpstreamError: return "upstream_error";
    case ErrorClass::UpstreamUnreachable: return "upstream_unreachable";
    case ErrorClass::UpstreamTimeout: return "upstream_timeout";
    case ErrorClass::UpstreamReset: return "upstream_reset";
    case ErrorClass::ClientClosed: return "client_closed";
    case ErrorClass::Count: break;
    }
    return "unknown";
}

} // namespace Gateway::Metrics
