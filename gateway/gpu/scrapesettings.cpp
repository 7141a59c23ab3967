#include "gpu/scrapesettings.h"

#include "gpu/enginesignalstracker.h"

#include <algorithm>

namespace Gateway::Gpu {

ScrapeSettings resolveScrapeSettings(const ScrapeSettings &settings)
{
    ScrapeSettings resolved = settings;
    resolved.intervalMs = std::max(settings.intervalMs, ScrapeSettings::MIN_INTERVAL_MS);
    if (resolved.timeoutMs <= 0) {
        resolved.timeoutMs = std::min(ScrapeSettings::MAX_TIMEOUT_MS, ScrapeSettings::TIMEOUT_INTERVALS * resolved.intervalMs);
    }
    if (resolved.staleAfterMs <= 0) {
        resolved.staleAfterMs = EngineSignalsTracker::staleBoundFor(resolved.intervalMs);
    }
    return resolved;
}

} // namespace Gateway::Gpu
