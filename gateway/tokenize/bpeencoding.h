#pragma once

#include "tokenize/encodingid.h"
#include "tokenize/ranktable.h"

#include <QByteArray>
#include <QByteArrayView>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace Gateway::Tokenize {

// One exact encoding: its pre-tokenizer plus byte-pair merge over a shared rank table.
// Text is UTF-8 bytes; invalid sequences are tokenized byte by byte rather than rejected,
// so counting never fails. Special tokens are not recognised: "<|endoftext|>" in the text
// counts as ordinary text (tiktoken's encode_ordinary), which is what a prompt costs.
// Immutable and thread-safe; cheap to copy.
class BpeEncoding final {
public:
    BpeEncoding(EncodingId id, std::shared_ptr<const RankTable> ranks);

    [[nodiscard]] EncodingId id() const { return m_id; }
    [[nodiscard]] std::vector<std::uint32_t> encode(QByteArrayView text) const;
    [[nodiscard]] qsizetype count(QByteArrayView text) const;
    // The bytes of the tokens; ids outside the vocabulary are skipped.
    [[nodiscard]] QByteArray decode(std::span<const std::uint32_t> ids) const;

private:
    using PieceEnd = qsizetype (*)(QByteArrayView text, qsizetype start);

    EncodingId m_id;
    std::shared_ptr<const RankTable> m_ranks;
    PieceEnd m_pieceEnd;
};

} // namespace Gateway::Tokenize
