#include "tokenize/encodingid.h"

namespace Gateway::Tokenize {

QLatin1String encodingName(EncodingId id)
{
    switch (id) {
    case EncodingId::Cl100kBase:
        return QLatin1String("cl100k_base");
    case EncodingId::O200kBase:
        return QLatin1String("o200k_base");
    }
    return {};
}

std::optional<EncodingId> encodingFromName(QLatin1String name)
{
    for (const EncodingId id : {EncodingId::Cl100kBase, EncodingId::O200kBase}) {
        if (encodingName(id) == name) {
            return id;
        }
    }
    return std::nullopt;
}

} // namespace Gateway::Tokenize
