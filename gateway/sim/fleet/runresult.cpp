#include "runresult.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace Gateway::Sim::Fleet {

namespace {

struct Spread {
    double skew = 0.0; // max / mean
    double cv = 0.0;   // stddev / mean
};

Spread spreadOf(const std::vector<double> &values)
{
    if (values.empty()) {
        return {};
    }
    const double mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
    if (!(mean > 0.0)) {
        return {};
    }
    double variance = 0.0;
    for (const double v : values) {
        variance += (v - mean) * (v - mean);
    }
    variance /= static_cast<double>(values.size());
    return {*std::max_element(values.begin(), values.end()) / mean, std::sqrt(variance) / mean};
}

} // namespace

RunResult summarize(const RunRecord &record)
{
    RunResult result;
    result.requests = static_cast<int>(record.requests.size());
    const double timeout = toSeconds(record.timeout);
    std::vector<double> ttft;
    std::vector<double> e2e;
    ttft.reserve(record.requests.size());
    e2e.reserve(record.requests.size());
    SimTime first = record.requests.empty() ? 0 : record.requests.front().arrival;
    SimTime last = first;
    std::int64_t outputTokens = 0;
    int good = 0;
    int disaggregated = 0;
    for (const RequestOutcome &r : record.requests) {
        first = std::min(first, r.arrival);
        disaggregated += r.disaggregated ? 1 : 0;
        switch (r.fate) {
        case RequestFate::Completed: {
            ++result.completed;
            last = std::max(last, r.finished);
            outputTokens += r.outputTokens;
            const double firstToken = toSeconds(r.firstToken - r.arrival);
            ttft.push_back(firstToken);
            e2e.push_back(toSeconds(r.finished - r.arrival));
            const double meanItlMs = r.outputTokens > 1
                ? 1000.0 * toSeconds(r.finished - r.firstToken) / (r.outputTokens - 1)
                : 0.0;
            if (firstToken <= GOODPUT_TTFT_SECONDS && meanItlMs <= GOODPUT_ITL_MILLIS) {
                ++good;
            }
            break;
        }
        case RequestFate::TimedOut:
            ++result.timeouts;
            ttft.push_back(r.firstToken >= 0 ? toSeconds(r.firstToken - r.arrival) : timeout);
            e2e.push_back(timeout);
            break;
        case RequestFate::Rejected:
            ++result.rejected;
            break;
        case RequestFate::Pending:
            break;
        }
    }
    result.ttftP50 = quantileOf(ttft, 0.50);
    result.ttftP90 = quantileOf(ttft, 0.90);
    result.ttftP99 = quantileOf(ttft, 0.99);
    result.e2eP50 = quantileOf(e2e, 0.50);
    result.e2eP99 = quantileOf(e2e, 0.99);
    result.itlP50 = record.interTokenGaps.quantile(0.50) / MICROS_PER_MILLI;
    result.itlP99 = record.interTokenGaps.quantile(0.99) / MICROS_PER_MILLI;

    const double makespan = toSeconds(last - first);
    result.makespanSeconds = makespan;
    result.disaggregatedShare = record.requests.empty() ? 0.0 : static_cast<double>(disaggregated) / static_cast<double>(record.requests.size());
    if (makespan > 0.0) {
        result.outputTokensPerSecond = static_cast<double>(outputTokens) / makespan;
        result.requestsPerSecond = result.completed / makespan;
        result.goodputPerSecond = good / makespan;
    }
    result.goodputShare = result.requests > 0 ? static_cast<double>(good) / result.requests : 0.0;

    std::int64_t queries = 0;
    std::int64_t hits = 0;
    for (const ServerStatus &s : record.servers) {
        queries += s.prefixCacheQueries;
        hits += s.prefixCacheHits;
        result.prefillTokens += s.prefillTokensComputed;
        result.peakWaiting = std::max(result.peakWaiting, s.peakWaiting);
        result.preemptions += s.preemptions;
        result.backendPrefillTokens.push_back(static_cast<double>(s.prefillTokensComputed));
        result.backendMeanRunning.push_back(makespan > 0.0 ? s.runningIntegral / static_cast<double>(last - first) : 0.0);
    }
    result.hitRate = queries > 0 ? static_cast<double>(hits) / static_cast<double>(queries) : 0.0;
    const Spread prefill = spreadOf(result.backendPrefillTokens);
    result.prefillSkew = prefill.skew;
    result.prefillCv = prefill.cv;
    const Spread running = spreadOf(result.backendMeanRunning);
    result.runningSkew = running.skew;
    result.runningCv = running.cv;

    std::vector<double> decisions = record.decisionMicros;
    result.decisionP50Us = quantileOf(decisions, 0.50);
    result.decisionP99Us = quantileOf(decisions, 0.99);
    return result;
}

} // namespace Gateway::Sim::Fleet
