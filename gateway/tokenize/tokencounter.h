#pragma once

#include "tokenize/bpeencoding.h"
#include "tokenize/encodingid.h"
#include "tokenize/tokenestimator.h"

#include <QStringView>

#include <optional>
#include <vector>

namespace Gateway::Tokenize {

struct TokenCount {
    qsizetype tokens = 0;
    bool exact = false;                  // false: TokenEstimator's estimate
    std::optional<EncodingId> encoding;  // set when exact
};

// Counts the tokens of a text for a model: exactly for OpenAI model families
// (modelencoding.h), by the calibrated estimator for every other model. Immutable and
// thread-safe; copies share the rank tables.
class TokenCounter final {
public:
    // A null table means that encoding is not available; its models are estimated.
    TokenCounter(std::shared_ptr<const RankTable> cl100k, std::shared_ptr<const RankTable> o200k,
                 TokenEstimator estimator = TokenEstimator());

    // Both encodings from the copies compiled into the binary (see bundledranks.h).
    static Expected<TokenCounter, QString> withBundledRanks();

    // `text` is UTF-8.
    [[nodiscard]] TokenCount count(QStringView model, QByteArrayView text) const;
    // Token ids for a model counted exactly; nullopt for an estimated model.
    [[nodiscard]] std::optional<std::vector<std::uint32_t>> encode(QStringView model, QByteArrayView text) const;
    // The exact encoding, or nullptr when its table was not given.
    [[nodiscard]] const BpeEncoding *encoding(EncodingId id) const;
    [[nodiscard]] const TokenEstimator &estimator() const { return m_estimator; }

private:
    const BpeEncoding *encodingForModelName(QStringView model) const;

    std::optional<BpeEncoding> m_cl100k;
    std::optional<BpeEncoding> m_o200k;
    TokenEstimator m_estimator;
};

} // namespace Gateway::Tokenize
