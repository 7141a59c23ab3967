#include "ruleset.h"

namespace Gateway::Routing {

bool RuleSet::Conditions::isEmpty() const
{
    return virtualKeys.isEmpty() && headers.empty() && minPromptTokens < 0 && maxPromptTokens < 0 && !hasImages &&
           !hasTools && messagePattern.isEmpty() && messageKeywords.isEmpty() && minMaxTokens < 0 && maxMaxTokens < 0;
}

std::optional<QString> RuleSet::add(Rule rule)
{
    if (rule.name.isEmpty()) {
        rule.name = '#' + QByteArray::number(static_cast<qsizetype>(m_rules.size() + 1));
    }
    if (rule.when.isEmpty()) {
        return QStringLiteral("rule %1 has no condition (it would match every request)").arg(QString::fromUtf8(rule.name));
    }
    Compiled compiled;
    if (!rule.when.messagePattern.isEmpty()) {
        compiled.pattern = QRegularExpression {rule.when.messagePattern};
        if (!compiled.pattern.isValid()) {
            return QStringLiteral("rule %1: invalid regular expression: %2 at offset %3")
                .arg(QString::fromUtf8(rule.name), compiled.pattern.errorString())
                .arg(compiled.pattern.patternErrorOffset());
        }
        // Compiles and JITs now, at config time, rather than on the first request.
        compiled.pattern.optimize();
    }
    for (const QString &keyword : rule.when.messageKeywords) {
        compiled.keywords.emplace_back(keyword, Qt::CaseInsensitive);
    }
    m_readsLastUserMessage = m_readsLastUserMessage || !compiled.keywords.empty() || !rule.when.messagePattern.isEmpty();
    compiled.rule = std::move(rule);
    m_rules.push_back(std::move(compiled));
    return std::nullopt;
}

const QString &RuleSet::MessageText::get()
{
    if (!text) {
        text = QString::fromUtf8(utf8);
    }
    return *text;
}

bool RuleSet::holds(const Compiled &compiled, const RequestFacts &facts, MessageText &message)
{
    const Conditions &when = compiled.rule.when;
    if (when.minPromptTokens >= 0 && facts.estimatedPromptTokens < when.minPromptTokens) {
        return false;
    }
    if (when.maxPromptTokens >= 0 && facts.estimatedPromptTokens > when.maxPromptTokens) {
        return false;
    }
    if ((when.minMaxTokens >= 0 || when.maxMaxTokens >= 0) && facts.maxTokens < 0) {
        return false;
    }
    if (when.minMaxTokens >= 0 && facts.maxTokens < when.minMaxTokens) {
        return false;
    }
    if (when.maxMaxTokens >= 0 && facts.maxTokens > when.maxMaxTokens) {
        return false;
    }
    if (when.hasImages && *when.hasImages != facts.hasImages) {
        return false;
    }
    if (when.hasTools && *when.hasTools != facts.hasTools) {
        return false;
    }
    if (!when.virtualKeys.isEmpty() && (facts.virtualKey.isEmpty() || !when.virtualKeys.contains(facts.virtualKey))) {
        return false;
    }
    for (const auto &[name, value] : when.headers) {
        const QByteArrayView actual = facts.header(name);
        if (actual.isNull() || actual != value) {
            return false;
        }
    }
    if (!compiled.keywords.empty()) {
        if (facts.lastUserMessage.isEmpty()) {
            return false;
        }
        const QString &text = message.get();
        bool any = false;
        for (const QStringMatcher &keyword : compiled.keywords) {
            if (keyword.indexIn(text) >= 0) {
                any = true;
                break;
            }
        }
        if (!any) {
            return false;
        }
    }
    if (!when.messagePattern.isEmpty()) {
        if (!compiled.pattern.match(message.get()).hasMatch()) {
            return false;
        }
    }
    return true;
}

RuleSet::Match RuleSet::match(const RequestFacts &facts) const
{
    MessageText message {facts.lastUserMessage, std::nullopt};
    for (std::size_t i = 0; i < m_rules.size(); ++i) {
        if (holds(m_rules[i], facts, message)) {
            return Match {static_cast<int>(i), &m_rules[i].rule};
        }
    }
    return {};
}

} // namespace Gateway::Routing
