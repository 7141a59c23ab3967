#pragma once

#include "tokenize/ranktable.h"

#include <QByteArrayView>

#include <cstdint>
#include <vector>

namespace Gateway::Tokenize {

// Byte-pair encoding of one pre-tokenized piece, the way tiktoken does it: start from
// single bytes and repeatedly merge the adjacent pair whose concatenation has the lowest
// rank (the leftmost one on ties) until no adjacent pair is a token.
//
// Fast paths, in order: a one-byte piece and a piece that is itself a token (most words)
// cost one lookup; pieces up to kSmallPiece bytes merge in fixed arrays on the stack with
// tiktoken's O(n*m) scan; longer pieces (CJK sentences, which have no spaces, long
// punctuation runs, base64) use a heap and a linked list, O(n log n), so a hostile piece of
// megabytes cannot make the counter quadratic. Both pick the same pair at every step.
// (16, 32 and 64 as the limit measured within 3% of each other in instructions per byte.)
class BytePairMerge final {
public:
    static constexpr qsizetype kSmallPiece = 32;

    // Appends the token ids of `piece` (non-empty) to `out`.
    static void encode(const RankTable &ranks, QByteArrayView piece, std::vector<std::uint32_t> &out);
    // The number of tokens of `piece` (non-empty), without materialising the ids.
    static qsizetype count(const RankTable &ranks, QByteArrayView piece);
};

} // namespace Gateway::Tokenize
