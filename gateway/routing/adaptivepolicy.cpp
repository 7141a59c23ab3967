#include "adaptivepolicy.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace Gateway::Routing {

namespace {

// A target drawn with weight 0 could never be picked by weight, not even as a last
// fallback; a tiny positive weight keeps it in the order behind everyone else.
constexpr double MIN_DRAW_WEIGHT = 1e-12;
// After subtracting picked weights, a running total below this share of the original may
// be dominated by rounding error (~1e-16 of the original), so it is summed afresh.
constexpr double RESUM_THRESHOLD = 1e-6;

std::vector<double> &weightScratch()
{
    thread_local std::vector<double> weights;
    return weights;
}

// Four partial sums break the add-latency chain of a plain loop (about 3x faster at 64).
double sumOf(const std::vector<double> &weights)
{
    double partial[4] = {0.0, 0.0, 0.0, 0.0};
    std::size_t i = 0;
    for (; i + 4 <= weights.size(); i += 4) {
        partial[0] += weights[i];
        partial[1] += weights[i + 1];
        partial[2] += weights[i + 2];
        partial[3] += weights[i + 3];
    }
    for (; i < weights.size(); ++i) {
        partial[0] += weights[i];
    }
    return (partial[0] + partial[1]) + (partial[2] + partial[3]);
}

// Cumulative-weight draw over `weights` (taken entries are 0); returns a position.
std::size_t drawByWeight(const std::vector<double> &weights, double total, double u)
{
    double remaining = u * total;
    std::size_t last = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        if (weights[i] <= 0.0) {
            continue;
        }
        last = i;
        remaining -= weights[i];
        if (remaining < 0.0) {
            return i;
        }
    }
    // Rounding can leave a sliver past the end: it belongs to the last untaken entry.
    return last;
}

// The route's computed factors, or null when there are none for it.
const std::vector<TargetFactors> *routeFactors(const RankInput &input)
{
    const auto route = static_cast<std::size_t>(input.routeIndex);
    if (input.routeIndex < 0 || route >= input.snapshot.routes.size()) {
        return nullptr;
    }
    return &input.snapshot.routes[route].targets;
}

// Computed weight x health ramp; without a computed entry the configured weight x health
// ramp, i.e. effectiveWeight(), written out here so the hot loop reads the snapshot once.
double weightOf(const RankInput &input, const std::vector<TargetFactors> *factors, int index)
{
    const auto position = static_cast<std::size_t>(index);
    const PolicyTarget &target = input.targets[position];
    const auto backend = static_cast<std::size_t>(target.backendId);
    const double health =
        backend < input.snapshot.backends.size() ? input.snapshot.backends[backend].healthWeight : 1.0;
    const double base = factors && position < factors->size() ? (*factors)[position].weight : target.weight;
    const double weight = base * health;
    // NaN fails the comparison and is replaced as well.
    return weight > MIN_DRAW_WEIGHT ? weight : MIN_DRAW_WEIGHT;
}

} // namespace

AdaptivePolicy::AdaptivePolicy()
    : AdaptivePolicy {Parameters {}}
{
}

AdaptivePolicy::AdaptivePolicy(const Parameters &parameters)
    : m_parameters {parameters}
{
    if (std::isnan(m_parameters.exploration)) {
        m_parameters.exploration = DEFAULT_EXPLORATION;
    }
    m_parameters.exploration = std::clamp(m_parameters.exploration, 0.0, 1.0);
}

double AdaptivePolicy::drawWeight(const RankInput &input, int index)
{
    return weightOf(input, routeFactors(input), index);
}

void AdaptivePolicy::rank(const RankInput &input, Rng &rng, Ranking &out) const
{
    out.reset(input.targets.size());
    const std::size_t count = input.candidates.size();
    if (count == 0) {
        return;
    }
    const std::size_t wanted = std::min(count, static_cast<std::size_t>(std::max(1, input.maxChoices)));

    std::vector<double> &weights = weightScratch();
    weights.resize(count);
    const std::vector<TargetFactors> *factors = routeFactors(input);
    for (std::size_t i = 0; i < count; ++i) {
        weights[i] = weightOf(input, factors, input.candidates[i]);
    }
    double total = sumOf(weights);
    if (out.explain) {
        for (std::size_t i = 0; i < count; ++i) {
            out.setScore(input.candidates[i], weights[i]);
        }
    }
    if (count == 1) {
        out.order.push_back(input.candidates.front());
        return;
    }

    const double initialTotal = total;
    const bool explore = m_parameters.exploration > 0.0 && rng.uniform() < m_parameters.exploration;
    for (std::size_t choice = 0; choice < wanted; ++choice) {
        std::size_t picked = 0;
        if (choice == 0 && explore) {
            picked = std::min(count - 1, static_cast<std::size_t>(rng.uniform() * static_cast<double>(count)));
        } else if (choice + 1 == count) {
            // One candidate left: no draw needed.
            picked = static_cast<std::size_t>(
                std::find_if(weights.begin(), weights.end(), [](double weight) { return weight > 0.0; })
                - weights.begin());
        } else {
            picked = drawByWeight(weights, total, rng.uniform());
        }
        out.order.push_back(input.candidates[picked]);
        total -= weights[picked];
        weights[picked] = 0.0;
        // Subtracting a dominant weight leaves mostly rounding error: re-sum in that case.
        if (choice + 1 < wanted && total <= initialTotal * RESUM_THRESHOLD) {
            total = sumOf(weights);
        }
    }
}

} // namespace Gateway::Routing
