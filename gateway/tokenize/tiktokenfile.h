#pragma once

#include "tokenize/ranktable.h"

#include <QByteArrayView>

namespace Gateway::Tokenize {

// Parses tiktoken's rank file format: one "<base64 token bytes> <rank>" line per token.
// Ranks must run 0, 1, 2, ... in file order (they do in every published file), which lets
// the table store tokens densely by rank.
Expected<std::shared_ptr<const RankTable>, QString> parseTiktokenFile(QByteArrayView text);

} // namespace Gateway::Tokenize
