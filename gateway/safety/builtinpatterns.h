#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace Gateway::Safety {

// What a match must also satisfy before it is redacted.
enum class MatchCheck { None, Luhn };

// A test far cheaper than the pattern that every text the pattern can match passes
// (an '@' for e-mails, 13 digits for card numbers, a known prefix for keys): most texts
// fail it, and then RE2 never runs over them.
enum class Prefilter { None, Email, CardDigits, KeyPrefix };
bool mayMatch(Prefilter prefilter, QByteArrayView text);

// A pattern before compilation: its name (the [REDACTED:<name>] marker and the metrics'
// rule label) and its RE2 expression.
struct PatternSource {
    QByteArray name;
    QByteArray regex;
    MatchCheck check = MatchCheck::None;
    Prefilter prefilter = Prefilter::None;
};

// The shipped patterns, by name: api_keys (provider key shapes and bearer tokens),
// emails, card_numbers (13-19 digits passing the Luhn check).
const std::vector<PatternSource> &builtinPatterns();
QStringList builtinPatternNames();
std::optional<PatternSource> builtinPattern(QByteArrayView name);

// Empty when RE2 accepts `regex`, else RE2's reason.
QString patternError(const QString &regex);

} // namespace Gateway::Safety
