#include "errorresponse.h"

#include "util/jsonwriter.h"

namespace Gateway::Proxy {

QByteArrayView openAiErrorType(int status)
{
    switch (status) {
    case 400:
    case 404:
    case 405:
    case 413:
    case 415:
    case 422: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 429: return "rate_limit_error";
    case 504: return "timeout_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

QByteArrayView anthropicErrorType(int status)
{
    switch (status) {
    case 400:
    case 405:
    case 415:
    case 422: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 529: return "overloaded_error";
    case 504: return "timeout_error";
    default: return "api_error";
    }
}

QByteArray errorBody(ErrorShape shape, const ErrorInfo &error)
{
    QByteArray body;
    body.reserve(160 + error.message.size());
    if (shape == ErrorShape::Anthropic) {
        body += "{\"type\":\"error\",\"error\":{\"type\":";
        Json::appendString(body, anthropicErrorType(error.status));
        body += ",\"message\":";
        Json::appendString(body, error.message);
        body += error.extraFields;
        body += "}}";
        return body;
    }
    body += "{\"error\":{\"message\":";
    Json::appendString(body, error.message);
    body += ",\"type\":";
    Json::appendString(body, openAiErrorType(error.status));
    body += ",\"param\":";
    if (error.param.isEmpty()) {
        body += "null";
    } else {
        Json::appendString(body, error.param);
    }
    body += ",\"code\":";
    if (error.code.isEmpty()) {
        body += "null";
    } else {
        Json::appendString(body, error.code);
    }
    body += error.extraFields;
    body += "}}";
    return body;
}

QByteArray streamErrorEvent(ErrorShape shape, const ErrorInfo &error)
{
    if (shape == ErrorShape::Anthropic) {
        return "event: error\ndata: " + errorBody(shape, error) + "\n\n";
    }
    return "data: " + errorBody(shape, error) + "\n\n";
}

} // namespace Gateway::Proxy
