#pragma once

#include "price.h"

#include <QByteArray>

#include <optional>
#include <vector>

namespace Gateway::Governance {

// Prices by model name. Consulted when a policy is compiled (never per request): each
// backend gets its resolved Price once.
class PriceTable final {
public:
    struct Entry {
        QByteArray model;
        Price price;
    };

    PriceTable() = default;
    explicit PriceTable(std::vector<Entry> entries) : m_entries {std::move(entries)} {}

    // Later entries override earlier ones of the same model (policy prices over defaults).
    void add(const Entry &entry);
    const std::vector<Entry> &entries() const { return m_entries; }

    // The price of an upstream model name: an exact entry; else the name after a
    // "vendor/" prefix; else the longest entry that the name extends with '-', '@' or ':'
    // (dated snapshots such as gpt-4o-2024-08-06 and claude-3-5-haiku@20241022 take
    // their family's price). Case-insensitive.
    std::optional<Price> find(QByteArrayView model) const;

private:
    std::vector<Entry> m_entries;
};

} // namespace Gateway::Governance
