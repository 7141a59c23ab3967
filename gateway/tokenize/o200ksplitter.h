#pragma once

#include <QByteArrayView>

namespace Gateway::Tokenize {

// The pre-tokenizer of o200k_base, a hand-written scanner equivalent to tiktoken's split
// pattern (leftmost match, alternatives tried in order, as a backtracking engine does):
//
//   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//   | [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//   | \p{N}{1,3} | ?[^\s\p{L}\p{N}]+[\r\n/]* | \s*[\r\n]+ | \s+(?!\S) | \s+
//
// Returns the byte offset where the piece starting at `start` ends (start < text.size()).
// Bytes that are not valid UTF-8 count as punctuation, so every input splits.
qsizetype o200kPieceEnd(QByteArrayView text, qsizetype start);

} // namespace Gateway::Tokenize
