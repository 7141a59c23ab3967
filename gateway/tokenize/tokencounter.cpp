#include "tokenize/tokencounter.h"

#include "tokenize/bundledranks.h"
#include "tokenize/modelencoding.h"

namespace Gateway::Tokenize {

TokenCounter::TokenCounter(std::shared_ptr<const RankTable> cl100k, std::shared_ptr<const RankTable> o200k,
                           TokenEstimator estimator)
    : m_estimator {estimator}
{
    if (cl100k) {
        m_cl100k.emplace(EncodingId::Cl100kBase, std::move(cl100k));
    }
    if (o200k) {
        m_o200k.emplace(EncodingId::O200kBase, std::move(o200k));
    }
}

Expected<TokenCounter, QString> TokenCounter::withBundledRanks()
{
    auto cl100k = loadBundledRanks(EncodingId::Cl100kBase);
    if (!cl100k) {
        return Unexpected(cl100k.error());
    }
    auto o200k = loadBundledRanks(EncodingId::O200kBase);
    if (!o200k) {
        return Unexpected(o200k.error());
    }
    return TokenCounter(std::move(cl100k).value(), std::move(o200k).value());
}

const BpeEncoding *TokenCounter::encoding(EncodingId id) const
{
    const auto &slot = id == EncodingId::O200kBase ? m_o200k : m_cl100k;
    return slot ? &*slot : nullptr;
}

const BpeEncoding *TokenCounter::encodingForModelName(QStringView model) const
{
    const std::optional<EncodingId> id = encodingForModel(model);
    return id ? encoding(*id) : nullptr;
}

TokenCount TokenCounter::count(QStringView model, QByteArrayView text) const
{
    if (const BpeEncoding *exact = encodingForModelName(model)) {
        return {exact->count(text), true, exact->id()};
    }
    return {m_estimator.estimate(text), false, std::nullopt};
}

std::optional<std::vector<std::uint32_t>> TokenCounter::encode(QStringView model, QByteArrayView text) const
{
    if (const BpeEncoding *exact = encodingForModelName(model)) {
        return exact->encode(text);
    }
    return std::nullopt;
}

} // namespace Gateway::Tokenize
