#include "semanticindex.h"

#include <cmath>
#include <mutex>

namespace Gateway::Cache {

SemanticIndex::SemanticIndex(qint64 maxEntries)
    : m_maxEntries {std::max<qint64>(1, maxEntries)}
{
}

std::vector<float> SemanticIndex::normalised(std::vector<float> vector)
{
    double sum = 0;
    for (const float value : vector) {
        sum += static_cast<double>(value) * value;
    }
    if (sum <= 0 || !std::isfinite(sum)) {
        return {};
    }
    const double scale = 1.0 / std::sqrt(sum);
    for (float &value : vector) {
        value = static_cast<float>(value * scale);
    }
    return vector;
}

std::optional<SemanticIndex::Match> SemanticIndex::find(const QByteArray &partition, const std::vector<float> &unitVector,
                                                        double threshold, qint64 nowMs) const
{
    const std::shared_lock lock {m_mutex};
    std::optional<Match> best;
    for (const Entry &entry : m_entriesByAge) {
        if (entry.expiresAtMs <= nowMs || entry.partition != partition || entry.vector.size() != unitVector.size()) {
            continue;
        }
        double dot = 0;
        for (std::size_t i = 0; i < unitVector.size(); ++i) {
            dot += static_cast<double>(entry.vector[i]) * unitVector[i];
        }
        if (dot >= threshold && (!best || dot > best->similarity)) {
            best = Match {entry.answer, dot};
        }
    }
    return best;
}

void SemanticIndex::insert(const QByteArray &partition, std::vector<float> unitVector, AnswerPtr answer,
                           qint64 expiresAtMs, qint64 nowMs)
{
    if (unitVector.empty() || expiresAtMs <= nowMs) {
        return;
    }
    const qint64 bytes = answer->footprint() + partition.size() + static_cast<qint64>(unitVector.size() * sizeof(float));
    const std::unique_lock lock {m_mutex};
    // Expired entries at the old end go first; the rest stay until their turn comes.
    while (!m_entriesByAge.empty() && m_entriesByAge.front().expiresAtMs <= nowMs) {
        popOldest();
    }
    m_entriesByAge.push_back(Entry {partition, std::move(unitVector), std::move(answer), expiresAtMs, bytes});
    m_entries.fetch_add(1, std::memory_order_relaxed);
    m_bytes.fetch_add(bytes, std::memory_order_relaxed);
    while (static_cast<qint64>(m_entriesByAge.size()) > m_maxEntries) {
        popOldest();
    }
}

void SemanticIndex::popOldest()
{
    m_entries.fetch_sub(1, std::memory_order_relaxed);
    m_bytes.fetch_sub(m_entriesByAge.front().bytes, std::memory_order_relaxed);
    m_entriesByAge.pop_front();
}

} // namespace Gateway::Cache
