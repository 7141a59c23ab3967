#pragma once

#include <QByteArrayView>

namespace Gateway::Runtime {

// The inference APIs the gateway proxies.
enum class Endpoint { ChatCompletions, Completions, Embeddings, Messages };

// "/v1/chat/completions" -> ChatCompletions; false for any other path.
bool endpointForPath(QByteArrayView path, Endpoint &out);

} // namespace Gateway::Runtime
