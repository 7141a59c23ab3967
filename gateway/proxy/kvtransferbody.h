#pragma once

// The request and response bodies of vLLM's disaggregated prefill protocol (its KV
// connectors, e.g. NixlConnector): the prefill server is asked for one token and told
// that another server will decode (`do_remote_decode`); its answer carries the
// `kv_transfer_params` (engine id, block ids, host, port) that the decode server needs to
// pull the prompt's KV blocks instead of prefilling them again.

#include <QByteArray>

#include <optional>

namespace Gateway::Proxy {

// The prefill step's body, from the client's (valid JSON object) body: model set to the
// target's upstream model, max_tokens 1 (and max_completion_tokens 1 if the client gave
// it), stream false, no stream_options, no min_tokens / min_completion_tokens, and
// kv_transfer_params asking for a remote decode. Every other member is copied byte for byte.
QByteArray prefillRequestBody(const QByteArray &body, const QByteArray &upstreamModel);

// `body` (a JSON object) with `kv_transfer_params` set to `params` (a JSON object's text),
// replacing any the client sent.
QByteArray withKvTransferParams(const QByteArray &body, const QByteArray &params);

// The `kv_transfer_params` object of a prefill response, compact JSON; nullopt when the
// body is not JSON, or the member is missing, null or an empty object (the server did not
// keep the blocks for a remote decode).
std::optional<QByteArray> kvTransferParamsOf(const QByteArray &responseBody);

} // namespace Gateway::Proxy
