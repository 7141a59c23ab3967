#include "pricetable.h"

namespace Gateway::Governance {

void PriceTable::add(const Entry &entry)
{
    for (Entry &existing : m_entries) {
        if (existing.model.compare(entry.model, Qt::CaseInsensitive) == 0) {
            existing.price = entry.price;
            return;
        }
    }
    m_entries.push_back(entry);
}

std::optional<Price> PriceTable::find(QByteArrayView model) const
{
    const qsizetype slash = model.lastIndexOf('/');
    const QByteArrayView bare = slash >= 0 ? model.sliced(slash + 1) : model;
    const Entry *best = nullptr;
    for (const Entry &entry : m_entries) {
        for (const QByteArrayView name : {model, bare}) {
            if (name.compare(entry.model, Qt::CaseInsensitive) == 0) {
                return entry.price;
            }
            const qsizetype length = entry.model.size();
            if (name.size() > length && name.first(length).compare(entry.model, Qt::CaseInsensitive) == 0) {
                const char next = name[length];
                if ((next == '-' || next == '@' || next == ':') && (!best || best->model.size() < length)) {
                    best = &entry;
                }
            }
        }
    }
    if (best) {
        return best->price;
    }
    return std::nullopt;
}

} // namespace Gateway::Governance
