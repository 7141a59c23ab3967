#pragma once

#include "policy.h"

#include "governance/pricetable.h"

#include <vector>

namespace Gateway::Config {

// The price table shipped in resources/prices/defaults.yaml (compiled in), parsed once.
// Its format is the policy's `prices:` section.
const std::vector<ModelPrice> &defaultPrices();

// Defaults, then the policy's own `prices:` over them, model by model.
Governance::PriceTable priceTableFor(const Policy &policy);

} // namespace Gateway::Config
