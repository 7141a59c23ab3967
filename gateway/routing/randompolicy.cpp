#include "randompolicy.h"

#include "rankkeybuffer.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

namespace Gateway::Routing {

namespace {

// A weight that cannot be drawn with (zero, negative, NaN, infinite) counts as zero: such
// a target is picked only once every positive-weight candidate has been taken.
double drawableWeight(const RankInput &input, int index)
{
    const double weight = effectiveWeight(input.targets[static_cast<std::size_t>(index)], input.snapshot);
    return std::isfinite(weight) && weight > 0.0 ? weight : 0.0;
}

std::size_t uniformPosition(double u, std::size_t count)
{
    return std::min(static_cast<std::size_t>(u * static_cast<double>(count)), count - 1);
}

// Per-call storage: on the stack up to RandomPolicy::INLINE_CANDIDATES, else on the heap.
template<typename T>
class Scratch {
public:
    explicit Scratch(std::size_t size)
    {
        if (size > RandomPolicy::INLINE_CANDIDATES) {
            m_heap.resize(size);
            m_data = m_heap.data();
        } else {
            m_data = m_inline.data();
        }
    }
    T &operator[](std::size_t i) { return m_data[i]; }
    const T &operator[](std::size_t i) const { return m_data[i]; }
    const T *data() const { return m_data; }

private:
    std::array<T, RandomPolicy::INLINE_CANDIDATES> m_inline; // uninitialised until written
    std::vector<T> m_heap;
    T *m_data = nullptr;
};

// The candidates' weights and their running sums, with the taken positions.
class WeightTable {
public:
    explicit WeightTable(const RankInput &input)
        : m_size {input.candidates.size()}
        , m_weights {m_size}
        , m_prefix {m_size}
        , m_taken {(m_size + 63) / 64}
    {
        // Locals, not members, in the loop: the stores through m_weights/m_prefix could
        // otherwise alias them and force a reload per candidate.
        double total = 0.0;
        std::size_t positive = 0;
        std::size_t lastPositive = 0;
        for (std::size_t i = 0; i < m_size; ++i) {
            const double weight = drawableWeight(input, input.candidates[i]);
            m_weights[i] = weight;
            total += weight;
            m_prefix[i] = total;
            if (weight > 0.0) {
                ++positive;
                lastPositive = i;
            }
        }
        for (std::size_t word = 0; word < (m_size + 63) / 64; ++word) {
            m_taken[word] = 0;
        }
        m_total = total;
        m_positiveLeft = positive;
        m_lastPositive = lastPositive;
    }

    double total() const { return m_total; }

    // Position i with probability weight_i / total, ignoring what is taken.
    std::size_t drawAny(Rng &rng) const
    {
        const double point = rng.uniform() * m_total;
        const double *const begin = m_prefix.data();
        const auto position = static_cast<std::size_t>(std::upper_bound(begin, begin + m_size, point) - begin);
        // Rounding can leave the point at or past the last sum: the last positive weight owns it.
        return std::min(position, m_lastPositive);
    }

    // A position not yet taken, by weight among those (uniform once only zero weights remain).
    std::size_t drawRemaining(Rng &rng, std::size_t remaining)
    {
        if (m_positiveLeft > 0) {
            for (int attempt = 0; attempt < RandomPolicy::MAX_REJECTIONS; ++attempt) {
                const std::size_t position = drawAny(rng);
                if (!isTaken(position)) {
                    return position;
                }
            }
            double mass = 0.0;
            for (std::size_t i = 0; i < m_size; ++i) {
                mass += isTaken(i) ? 0.0 : m_weights[i];
            }
            if (mass > 0.0) {
                const double point = rng.uniform() * mass;
                double cumulative = 0.0;
                std::size_t lastPositive = m_size;
                for (std::size_t i = 0; i < m_size; ++i) {
                    if (isTaken(i) || !(m_weights[i] > 0.0)) {
                        continue;
                    }
                    cumulative += m_weights[i];
                    if (point < cumulative) {
                        return i;
                    }
                    lastPositive = i;
                }
                return lastPositive;
            }
        }
        std::size_t skip = uniformPosition(rng.uniform(), remaining);
        for (std::size_t i = 0; i < m_size; ++i) {
            if (!isTaken(i) && skip-- == 0) {
                return i;
            }
        }
        return m_size; // unreachable while remaining counts the untaken positions
    }

    std::size_t onlyRemaining() const
    {
        std::size_t i = 0;
        while (isTaken(i)) {
            ++i;
        }
        return i;
    }

    void take(std::size_t position)
    {
        m_taken[position / 64] |= std::uint64_t {1} << (position % 64);
        m_positiveLeft -= m_weights[position] > 0.0 ? 1 : 0;
    }

private:
    bool isTaken(std::size_t position) const { return (m_taken[position / 64] >> (position % 64)) & 1U; }

    std::size_t m_size;
    Scratch<double> m_weights;
    Scratch<double> m_prefix;
    Scratch<std::uint64_t> m_taken; // one bit per position
    double m_total;
    std::size_t m_positiveLeft;
    std::size_t m_lastPositive;
};

} // namespace

void RandomPolicy::rank(const RankInput &input, Rng &rng, Ranking &out) const
{
    out.reset(input.targets.size());
    const std::size_t candidateCount = input.candidates.size();
    if (candidateCount == 1) {
        out.order.push_back(input.candidates.front());
        out.setScore(input.candidates.front(), 1.0);
        return;
    }

    WeightTable table {input};
    if (out.explain) {
        for (const int index : input.candidates) {
            out.setScore(index, table.total() > 0.0 ? drawableWeight(input, index) / table.total()
                                                    : 1.0 / static_cast<double>(candidateCount));
        }
    }
    const std::size_t count = RankKeyBuffer::choiceCount(input.maxChoices, candidateCount);
    for (std::size_t picked = 0; picked < count; ++picked) {
        const std::size_t remaining = candidateCount - picked;
        const std::size_t position = remaining == 1 ? table.onlyRemaining() : table.drawRemaining(rng, remaining);
        table.take(position);
        out.order.push_back(input.candidates[position]);
    }
}

} // namespace Gateway::Routing
