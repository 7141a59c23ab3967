#pragma once

#include "tokenize/encodingid.h"

#include <QStringView>

#include <optional>

namespace Gateway::Tokenize {

// The exact encoding of an OpenAI model name, or nullopt for any other model (which then
// gets the estimator). Follows tiktoken's model table:
//   o200k_base:  gpt-4o*, chatgpt-4o*, gpt-4.1*, gpt-4.5*, gpt-5*, o1, o3, o4 (and their
//                "-suffix" variants), gpt-oss* (o200k_harmony differs only in special tokens)
//   cl100k_base: gpt-4, gpt-4-*, gpt-3.5*, gpt-35* (Azure), text-embedding-3-*,
//                text-embedding-ada-002, davinci-002, babbage-002
// Case-insensitive. A routing prefix ("openai/", "azure/") and a fine-tune prefix ("ft:")
// are ignored, so "openai/gpt-4o-mini" and "ft:gpt-4o:acme::id" map like "gpt-4o".
std::optional<EncodingId> encodingForModel(QStringView model);

} // namespace Gateway::Tokenize
