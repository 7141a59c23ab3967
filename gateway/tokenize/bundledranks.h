#pragma once

#include "tokenize/encodingid.h"
#include "tokenize/ranktable.h"

namespace Gateway::Tokenize {

// The rank table of an encoding from the copy compiled into the binary
// (resources/tokenizers, Qt resource path ":/tokenizers/<name>.tiktoken"). Takes tens of
// milliseconds (decompress + parse), so call it once at start-up and share the result.
Expected<std::shared_ptr<const RankTable>, QString> loadBundledRanks(EncodingId id);

} // namespace Gateway::Tokenize
