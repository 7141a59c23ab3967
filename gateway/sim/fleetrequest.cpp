#include "fleetrequest.h"

#include "proxy/requestinspector.h"
#include "routing/promptblocks.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <simdjson.h>

#include <string_view>

namespace Gateway::Sim {

namespace {

namespace od = simdjson::ondemand;

bool isNull(od::value &value)
{
    od::json_type type;
    return !value.type().get(type) && type == od::json_type::null;
}

} // namespace

Expected<FleetRequest, QByteArray> parseFleetRequest(Endpoint endpoint, QByteArrayView body)
{
    if (endpoint != Endpoint::ChatCompletions && endpoint != Endpoint::Completions) {
        return Unexpected {QByteArrayLiteral("a fleet-mode server serves chat/completions and completions only")};
    }
    const simdjson::padded_string input(body.data(), static_cast<std::size_t>(body.size()));
    od::parser parser;
    od::document document;
    od::object object;
    if (parser.iterate(input).get(document) || document.get_object().get(object)) {
        return Unexpected {QByteArrayLiteral("the request body must be a JSON object")};
    }
    FleetRequest request;
    bool sawPrompt = false;
    for (auto field : object) {
        std::string_view key;
        od::value value;
        if (field.unescaped_key().get(key) || field.value().get(value)) {
            return Unexpected {QByteArrayLiteral("the request body is not valid JSON")};
        }
        if (key == "model") {
            std::string_view model;
            if (value.get_string().get(model)) {
                return Unexpected {QByteArrayLiteral("'model' must be a string")};
            }
            request.model = QByteArray(model.data(), static_cast<qsizetype>(model.size()));
        } else if (key == "stream") {
            if (!isNull(value) && value.get_bool().get(request.stream)) {
                return Unexpected {QByteArrayLiteral("'stream' must be a boolean")};
            }
        } else if (key == "max_tokens" || key == "max_completion_tokens") {
            if (isNull(value)) {
                continue;
            }
            std::int64_t maxTokens = 0;
            if (value.get_int64().get(maxTokens) || maxTokens < 1 || maxTokens > 100000000) {
                return Unexpected {QByteArrayLiteral("'max_tokens' must be a positive integer")};
            }
            request.maxTokens = static_cast<int>(maxTokens);
        } else if (key == "stream_options") {
            od::object options;
            if (isNull(value) || value.get_object().get(options)) {
                continue;
            }
            for (auto option : options) {
                std::string_view optionKey;
                if (!option.unescaped_key().get(optionKey) && optionKey == "include_usage") {
                    bool include = false;
                    if (!option.value().get_bool().get(include)) {
                        request.includeUsage = include;
                    }
                }
            }
        } else if (key == "x_sim_completion_text") {
            std::string_view text;
            if (value.get_string().get(text)) {
                return Unexpected {QByteArrayLiteral("'x_sim_completion_text' must be a string")};
            }
            request.completionText = QByteArray(text.data(), static_cast<qsizetype>(text.size()));
        } else if (key == "kv_transfer_params") {
            od::object paramsObject;
            std::string_view raw;
            if (isNull(value)) {
                continue;
            }
            if (value.get_object().get(paramsObject) || paramsObject.raw_json().get(raw)) {
                return Unexpected {QByteArrayLiteral("'kv_transfer_params' must be an object")};
            }
            const QJsonDocument params = QJsonDocument::fromJson(QByteArray(raw.data(), static_cast<qsizetype>(raw.size())));
            if (!params.isObject()) {
                return Unexpected {QByteArrayLiteral("'kv_transfer_params' must be an object")};
            }
            const QJsonObject object = params.object();
            KvTransferRequest &kv = request.kvTransfer;
            kv.present = true;
            kv.remoteDecode = object.value(QLatin1String("do_remote_decode")).toBool();
            kv.remotePrefill = object.value(QLatin1String("do_remote_prefill")).toBool();
            kv.remoteEngineId = object.value(QLatin1String("remote_engine_id")).toString().toUtf8();
            kv.remoteBlocks = static_cast<int>(object.value(QLatin1String("remote_block_ids")).toArray().size());
            kv.raw = params.toJson(QJsonDocument::Compact);
        } else if ((key == "messages" && endpoint == Endpoint::ChatCompletions) ||
                   (key == "prompt" && endpoint == Endpoint::Completions)) {
            sawPrompt = true;
        }
    }
    if (!sawPrompt) {
        return Unexpected {endpoint == Endpoint::ChatCompletions ? QByteArrayLiteral("'messages' must not be empty")
                                                                 : QByteArrayLiteral("'prompt' is required")};
    }
    // The prompt text comes from the gateway's own inspector, so the server's KV blocks
    // are, by construction, the blocks the gateway's prefix index hashes.
    thread_local Proxy::RequestInspector inspector;
    const QByteArray copy = body.toByteArray();
    if (!inspector.inspect(endpoint == Endpoint::ChatCompletions ? Runtime::Endpoint::ChatCompletions
                                                                 : Runtime::Endpoint::Completions,
                           copy, false, Routing::PromptBlockHasher::DEFAULT_BLOCK_CHARS)) {
        return Unexpected {QByteArrayLiteral("the request body is not a valid inference request")};
    }
    request.promptText = inspector.lastRenderedPrompt();
    return request;
}

} // namespace Gateway::Sim
