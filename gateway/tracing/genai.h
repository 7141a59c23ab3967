#pragma once

#include "config/policy.h"
#include "runtime/endpoint.h"

#include <QByteArray>
#include <QByteArrayView>

#include <vector>

namespace Gateway::Tracing {

// Values of the OpenTelemetry GenAI semantic conventions (gen_ai.*) for what the
// gateway knows, and the routing decision read back out of the route reason.

// gen_ai.system: "openai", "az.ai.openai", "anthropic"; self-hosted servers by their
// provider type ("vllm", "sglang", "tgi", "llamacpp", "openai-compatible").
QByteArray genAiSystem(Config::ProviderType type);
// gen_ai.operation.name: "chat" (chat completions and messages), "text_completion",
// "embeddings".
QByteArray genAiOperation(Runtime::Endpoint endpoint);

// server.address and server.port of an http(s) base URL, read without a URL parser
// (per traced attempt): "https://api.openai.com/v1" -> api.openai.com, 443. User info is
// skipped; an IPv6 literal loses its brackets.
struct ServerAddress {
    QByteArray host;
    qint64 port = 0;
};
ServerAddress serverAddressOf(QByteArrayView url);

// Appends each non-null `"finish_reason"` (OpenAI) or `"stop_reason"` (Anthropic)
// string value in `json` (an answer, or one stream event) that is not already listed.
// A byte scan, no parse: only traced requests pay for it.
void collectFinishReasons(QByteArrayView json, std::vector<QByteArray> &reasons);

// The first route's part of an x-switchyard-route-reason (AttemptPlanner's explanation:
// "route=chat strategy=p2c scores=a:1,b:2 order=b>a session=sticky; ..."), split into
// the fields traces carry as switchyard.* attributes. Absent parts stay empty.
struct RouteReasonFields {
    QByteArray strategy;
    QByteArray scores;
    QByteArray order;
    QByteArray session;
};
RouteReasonFields routeReasonFields(QByteArrayView reason);

} // namespace Gateway::Tracing
