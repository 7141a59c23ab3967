#pragma once

#include "tokenize/textfeatures.h"

#include <QByteArrayView>

namespace Gateway::Tokenize {

// Token count estimate for models whose tokenizer we do not ship (Claude, Gemini, Llama,
// Mistral, ...): a linear model over TextFeatures, i.e. a cost per word, letter, digit
// group, symbol and CJK character by script class.
//
// The default weights are a least-squares fit against exact o200k_base counts of the
// test corpus (tests/gateway/tokenize/data, tool tests/gateway/tokenize/calibrateestimator.cpp);
// docs/ARCHITECTURE.md "Token counting" records the fit and its measured error. o200k is
// the reference because it is the newest large vocabulary we can count exactly; other
// vendors' tokenizers differ from it by a model-dependent factor that a caller can apply
// through `scale`.
class TokenEstimator final {
public:
    using Weights = std::array<double, TextFeatures::Count>;

    static const Weights kCalibratedWeights;

    explicit TokenEstimator(Weights weights = kCalibratedWeights, double scale = 1.0);

    // Rounded to the nearest integer; at least 1 for non-empty text, 0 for empty text.
    [[nodiscard]] qsizetype estimate(QByteArrayView text) const;
    [[nodiscard]] double estimate(const TextFeatures &features) const;

private:
    Weights m_weights;
    double m_scale;
};

} // namespace Gateway::Tokenize
