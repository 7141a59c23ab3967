#pragma once

#include <QtGlobal>

namespace Gateway::Governance {

// US dollars per million tokens. cachedInputPerMTok < 0 means the model has no cached
// rate and cached prompt tokens are billed as ordinary input.
struct Price {
    double inputPerMTok = 0;
    double outputPerMTok = 0;
    double cachedInputPerMTok = -1;

    bool isKnown() const { return inputPerMTok > 0 || outputPerMTok > 0; }
    bool operator==(const Price &) const = default;
};

// Token counts of one request as the provider reported them (or as estimated when it
// did not). inputTokens includes cachedInputTokens.
struct Usage {
    qint64 inputTokens = 0;
    qint64 cachedInputTokens = 0;
    qint64 outputTokens = 0;

    qint64 total() const { return inputTokens + outputTokens; }
};

// cost = (input - cached) x input price + cached x cached price + output x output price,
// in nano-dollars, rounded to the nearest.
qint64 costNanos(const Price &price, const Usage &usage);

} // namespace Gateway::Governance
