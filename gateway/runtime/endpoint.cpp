#include "endpoint.h"

namespace Gateway::Runtime {

bool endpointForPath(QByteArrayView path, Endpoint &out)
{
    if (path == "/v1/chat/completions") {
        out = Endpoint::ChatCompletions;
    } else if (path == "/v1/completions") {
        out = Endpoint::Completions;
    } else if (path == "/v1/embeddings") {
        out = Endpoint::Embeddings;
    } else if (path == "/v1/messages") {
        out = Endpoint::Messages;
    } else {
        return false;
    }
    return true;
}

} // namespace Gateway::Runtime
