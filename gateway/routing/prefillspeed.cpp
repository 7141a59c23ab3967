#include "prefillspeed.h"

namespace Gateway::Routing {

void PrefillSpeed::observe(const PrefillTicket &ticket, std::int64_t uncachedTokens, std::int64_t nowUs)
{
    if (!ticket.alone || uncachedTokens < MIN_SAMPLE_TOKENS || nowUs <= ticket.sentAtUs) {
        return;
    }
    const double sample = static_cast<double>(nowUs - ticket.sentAtUs) / static_cast<double>(uncachedTokens);
    m_usPerToken = m_usPerToken > 0.0 ? m_usPerToken + SMOOTHING * (sample - m_usPerToken) : sample;
}

} // namespace Gateway::Routing
