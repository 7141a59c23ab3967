#include "tokenize/bpeencoding.h"

#include "tokenize/bytepairmerge.h"
#include "tokenize/cl100ksplitter.h"
#include "tokenize/o200ksplitter.h"

namespace Gateway::Tokenize {

BpeEncoding::BpeEncoding(EncodingId id, std::shared_ptr<const RankTable> ranks)
    : m_id {id}
    , m_ranks {std::move(ranks)}
    , m_pieceEnd {id == EncodingId::O200kBase ? &o200kPieceEnd : &cl100kPieceEnd}
{
}

std::vector<std::uint32_t> BpeEncoding::encode(QByteArrayView text) const
{
    std::vector<std::uint32_t> ids;
    // About 4 bytes per token for English; one reallocation at worst for other text.
    ids.reserve(std::size_t(text.size() / 4 + 1));
    for (qsizetype pos = 0; pos < text.size();) {
        const qsizetype end = m_pieceEnd(text, pos);
        BytePairMerge::encode(*m_ranks, text.sliced(pos, end - pos), ids);
        pos = end;
    }
    return ids;
}

qsizetype BpeEncoding::count(QByteArrayView text) const
{
    qsizetype tokens = 0;
    for (qsizetype pos = 0; pos < text.size();) {
        const qsizetype end = m_pieceEnd(text, pos);
        tokens += BytePairMerge::count(*m_ranks, text.sliced(pos, end - pos));
        pos = end;
    }
    return tokens;
}

QByteArray BpeEncoding::decode(std::span<const std::uint32_t> ids) const
{
    QByteArray out;
    for (const std::uint32_t id : ids) {
        out.append(m_ranks->bytes(id));
    }
    return out;
}

} // namespace Gateway::Tokenize
