#include "benchmetrics.h"

namespace FleetBench {

MetricValues metricsOf(const Gateway::Sim::Fleet::RunResult &r)
{
    MetricValues v {};
    auto set = [&v](Metric metric, double value) { v[static_cast<std::size_t>(metric)] = value; };
    set(Metric::TtftP50, r.ttftP50);
    set(Metric::TtftP90, r.ttftP90);
    set(Metric::TtftP99, r.ttftP99);
    set(Metric::ItlP50, r.itlP50);
    set(Metric::ItlP99, r.itlP99);
    set(Metric::E2eP50, r.e2eP50);
    set(Metric::E2eP99, r.e2eP99);
    set(Metric::OutputTokensPerSecond, r.outputTokensPerSecond);
    set(Metric::RequestsPerSecond, r.requestsPerSecond);
    set(Metric::GoodputPerSecond, r.goodputPerSecond);
    set(Metric::GoodputShare, r.goodputShare);
    set(Metric::HitRate, r.hitRate);
    set(Metric::PrefillTokens, static_cast<double>(r.prefillTokens));
    set(Metric::PrefillSkew, r.prefillSkew);
    set(Metric::PrefillCv, r.prefillCv);
    set(Metric::RunningSkew, r.runningSkew);
    set(Metric::RunningCv, r.runningCv);
    set(Metric::PeakWaiting, r.peakWaiting);
    set(Metric::Timeouts, r.timeouts);
    set(Metric::Rejected, r.rejected);
    set(Metric::Completed, r.completed);
    set(Metric::Requests, r.requests);
    set(Metric::Preemptions, static_cast<double>(r.preemptions));
    set(Metric::DecisionP50Us, r.decisionP50Us);
    set(Metric::DecisionP99Us, r.decisionP99Us);
    set(Metric::MakespanSeconds, r.makespanSeconds);
    set(Metric::DisaggregatedShare, r.disaggregatedShare);
    return v;
}

} // namespace FleetBench
