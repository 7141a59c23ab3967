#include "defaultprices.h"

#include "policyloader.h"

#include <QtGlobal>

namespace Gateway::Config {

extern const char DEFAULT_PRICES_YAML[];

namespace {

std::vector<ModelPrice> parseDefaults()
{
    // The shipped file is checked by a test; a broken one must not stop the gateway,
    // which then prices from the policy alone.
    // No ${VAR} expansion: the shipped table is literal.
    const EnvLookup noEnvironment = [](const QString &) -> std::optional<QByteArray> { return std::nullopt; };
    auto parsed =
        parsePolicy(QByteArray {DEFAULT_PRICES_YAML}, QStringLiteral("resources/prices/defaults.yaml"), noEnvironment);
    if (!parsed) {
        qWarning("switchyard: the built-in price table does not parse: %s", qPrintable(parsed.error().toString()));
        return {};
    }
    return parsed->prices;
}

Governance::PriceTable::Entry entryOf(const ModelPrice &price)
{
    return {price.model, {price.inputPerMTok, price.outputPerMTok, price.cachedInputPerMTok}};
}

} // namespace

const std::vector<ModelPrice> &defaultPrices()
{
    // An immutable constant parsed on first use, not shared mutable state.
    static const std::vector<ModelPrice> prices = parseDefaults();
    return prices;
}

Governance::PriceTable priceTableFor(const Policy &policy)
{
    Governance::PriceTable table;
    for (const ModelPrice &price : defaultPrices()) {
        table.add(entryOf(price));
    }
    for (const ModelPrice &price : policy.prices) {
        table.add(entryOf(price));
    }
    return table;
}

} // namespace Gateway::Config
