#include "promptfirewall.h"

#include "runtime/routetable.h"
#include "util/jsonwriter.h"

namespace Gateway::Proxy {

FirewallVerdict applyFirewall(const Runtime::RouteFirewall &firewall, const std::vector<MessageText> &texts, QByteArray &body)
{
    FirewallVerdict verdict;
    const Safety::Redactor &patterns = *firewall.patterns;
    if (firewall.action == Config::FirewallAction::Block) {
        int first = -1;
        for (const MessageText &text : texts) {
            const int rule = patterns.firstMatch(text.text);
            if (rule >= 0 && (first < 0 || rule < first)) {
                first = rule;
            }
        }
        if (first >= 0) {
            verdict.blocked = true;
            verdict.blockingRule = first;
            firewall.counters[static_cast<std::size_t>(first)]->fetch_add(1, std::memory_order_relaxed);
        }
        return verdict;
    }
    // From the last string to the first, so the ranges still to replace keep their offsets.
    for (auto it = texts.rbegin(); it != texts.rend(); ++it) {
        QByteArray text = it->text;
        const std::uint64_t matched = patterns.redact(text);
        if (matched == 0) {
            continue;
        }
        verdict.redacted |= matched;
        QByteArray token;
        Json::appendString(token, text);
        body.replace(it->begin, it->end - it->begin, token);
    }
    for (int rule = 0; rule < patterns.ruleCount(); ++rule) {
        if ((verdict.redacted & (std::uint64_t {1} << rule)) != 0) {
            firewall.counters[static_cast<std::size_t>(rule)]->fetch_add(1, std::memory_order_relaxed);
        }
    }
    return verdict;
}

} // namespace Gateway::Proxy
