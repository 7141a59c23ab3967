#pragma once

#include <QLatin1String>

#include <cstdint>
#include <optional>

namespace Gateway::Tokenize {

// The BPE encodings the gateway counts exactly.
enum class EncodingId : std::uint8_t { Cl100kBase, O200kBase };

// tiktoken's name for it: "cl100k_base", "o200k_base".
QLatin1String encodingName(EncodingId id);
std::optional<EncodingId> encodingFromName(QLatin1String name);

} // namespace Gateway::Tokenize
