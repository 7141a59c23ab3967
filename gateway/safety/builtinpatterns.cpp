#include "builtinpatterns.h"

#include <re2/re2.h>

namespace Gateway::Safety {

const std::vector<PatternSource> &builtinPatterns()
{
    // Provider key shapes first, most specific first (RE2 alternation is leftmost-first,
    // as in Perl): Anthropic sk-ant-, OpenAI sk- / sk-proj-, AWS access key ids, Google
    // API keys, GitHub tokens, Slack tokens; then any bearer credential.
    static const std::vector<PatternSource> patterns {
        {QByteArrayLiteral("api_keys"),
         QByteArrayLiteral(R"(\bsk-ant-[A-Za-z0-9_-]{16,}|\bsk-[A-Za-z0-9_-]{16,}|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|)"
                           R"(\bAIza[0-9A-Za-z_-]{35}|\bgh[pousr]_[A-Za-z0-9]{36,}|\bxox[abprs]-[A-Za-z0-9-]{10,}|)"
                           R"((?i:\bbearer\s+)[A-Za-z0-9._~+/-]{16,}=*)"),
         MatchCheck::None, Prefilter::KeyPrefix},
        {QByteArrayLiteral("emails"),
         QByteArrayLiteral(R"([A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})"), MatchCheck::None,
         Prefilter::Email},
        {QByteArrayLiteral("card_numbers"), QByteArrayLiteral(R"(\b[0-9](?:[ -]?[0-9]){12,18}\b)"), MatchCheck::Luhn,
         Prefilter::CardDigits},
    };
    return patterns;
}

namespace {

// "bearer" in any case, as the pattern's (?i:...) matches it.
bool containsBearer(QByteArrayView text)
{
    static constexpr char word[] = "bearer";
    for (qsizetype i = 0; i + 6 <= text.size(); ++i) {
        qsizetype k = 0;
        while (k < 6 && (text[i + k] | 0x20) == word[k]) {
            ++k;
        }
        if (k == 6) {
            return true;
        }
    }
    return false;
}

} // namespace

bool mayMatch(Prefilter prefilter, QByteArrayView text)
{
    switch (prefilter) {
    case Prefilter::None:
        return true;
    case Prefilter::Email:
        return text.contains('@');
    case Prefilter::CardDigits: {
        // 13 digits with nothing but spaces and dashes between them.
        int run = 0;
        for (const char c : text) {
            if (c >= '0' && c <= '9') {
                if (++run >= 13) {
                    return true;
                }
            } else if (c != ' ' && c != '-') {
                run = 0;
            }
        }
        return false;
    }
    case Prefilter::KeyPrefix: {
        for (const char *prefix : {"sk-", "AKIA", "ASIA", "AIza", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xox"}) {
            if (text.contains(QByteArrayView(prefix))) {
                return true;
            }
        }
        return containsBearer(text);
    }
    }
    return true;
}

QStringList builtinPatternNames()
{
    QStringList names;
    for (const PatternSource &pattern : builtinPatterns()) {
        names.push_back(QString::fromLatin1(pattern.name));
    }
    return names;
}

std::optional<PatternSource> builtinPattern(QByteArrayView name)
{
    for (const PatternSource &pattern : builtinPatterns()) {
        if (pattern.name == name) {
            return pattern;
        }
    }
    return std::nullopt;
}

QString patternError(const QString &regex)
{
    const std::string text = regex.toStdString();
    RE2::Options options;
    options.set_log_errors(false);
    const RE2 compiled {text, options};
    return compiled.ok() ? QString() : QString::fromStdString(compiled.error());
}

} // namespace Gateway::Safety
