#pragma once

#include <QtGlobal>

namespace Gateway::Tokenize {

// Pieces of the split regexes that cl100k_base and o200k_base share. Positions are byte
// offsets into [data, data + size); every function is called with pos < size unless it
// says otherwise.

// (?i:'s|'t|'re|'ve|'m|'ll|'d) at pos: the match length in bytes, or 0.
qsizetype contractionLength(const unsigned char *data, qsizetype size, qsizetype pos);

// \p{N}{1,3} starting with the number at pos: the end of the match.
qsizetype numberRunEnd(const unsigned char *data, qsizetype size, qsizetype pos);

// [^\s\p{L}\p{N}]+ starting with the punctuation character at pos, followed by the greedy
// tail [\r\n]* (cl100k) or [\r\n/]* (o200k): the end of the match.
qsizetype punctRunEnd(const unsigned char *data, qsizetype size, qsizetype pos, bool slashInTail);

// The last three alternatives, \s*[\r\n]+ | \s+(?!\S) | \s+, for the whitespace character
// at pos: the end of the match.
qsizetype whitespaceEnd(const unsigned char *data, qsizetype size, qsizetype pos);

} // namespace Gateway::Tokenize
