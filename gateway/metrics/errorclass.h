#pragma once

#include <QByteArrayView>

namespace Gateway::Metrics {

// Why a request or an upstream attempt failed, as counted in metrics and shown in the
// consoles. Client mistakes are kept apart from upstream failures: only the latter
// count against a backend.
enum class ErrorClass {
    BadRequest,          // 400/405/413: malformed or unsupported request
    Unauthorized,        // 401/403: missing, unknown or not-allowed virtual key
    NotFound,            // 404: unknown model or path
    RateLimited,         // 429 from upstream
    UpstreamClientError, // upstream answered 4xx other than 429 (passed through)
    UpstreamError,       // upstream answered 5xx
    UpstreamUnreachable, // connect refused/failed
    UpstreamTimeout,     // connect, first-token or idle timeout
    UpstreamReset,       // connection broke mid-response
    ClientClosed,        // the client went away before the answer was complete
    Count
};

constexpr int ERROR_CLASS_COUNT = static_cast<int>(ErrorClass::Count);

QByteArrayView errorClassName(ErrorClass errorClass);

} // namespace Gateway::Metrics
