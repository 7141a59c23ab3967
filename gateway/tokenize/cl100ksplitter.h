#pragma once

#include <QByteArrayView>

namespace Gateway::Tokenize {

// The pre-tokenizer of cl100k_base, a hand-written scanner equivalent to tiktoken's
// split pattern (leftmost match, alternatives tried in order, as a backtracking engine does):
//
//   (?i:'s|'t|'re|'ve|'m|'ll|'d) | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N}{1,3}
//   | ?[^\s\p{L}\p{N}]+[\r\n]* | \s*[\r\n]+ | \s+(?!\S) | \s+
//
// Returns the byte offset where the piece starting at `start` ends (start < text.size()).
// Bytes that are not valid UTF-8 count as punctuation, so every input splits.
qsizetype cl100kPieceEnd(QByteArrayView text, qsizetype start);

} // namespace Gateway::Tokenize
