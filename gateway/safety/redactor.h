#pragma once

#include "builtinpatterns.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

#include <cstdint>
#include <memory>
#include <vector>

namespace Gateway::Safety {

// A compiled, immutable set of patterns: built once per policy and shared by every
// thread (RE2 objects are safe for concurrent matching). Used for the redaction of
// everything logged or stored and for each route's prompt firewall.
class Redactor final {
public:
    // At most MAX_RULES sources; each must have passed patternError().
    explicit Redactor(const std::vector<PatternSource> &sources);
    ~Redactor();
    Redactor(const Redactor &) = delete;
    Redactor &operator=(const Redactor &) = delete;

    static constexpr int MAX_RULES = 64;

    bool isEmpty() const { return m_rules.empty(); }
    int ruleCount() const { return static_cast<int>(m_rules.size()); }
    const QByteArray &ruleName(int index) const;

    // Replaces every match with "[REDACTED:<name>]", rule by rule in order; returns the
    // rules that matched as bits (bit i = rule i). Allocates only when something matched.
    std::uint64_t redact(QByteArray &text) const;
    QByteArray redacted(QByteArrayView text) const;
    QString redacted(const QString &text) const;
    // The first rule (in order) with a match in `text`, or -1.
    int firstMatch(QByteArrayView text) const;
    // A JSON document with the matches replaced inside its string values (keys and
    // structure untouched, so the result stays valid JSON); returns whether anything
    // changed. A document that does not parse is redacted as plain text.
    bool redactJson(QByteArray &json) const;

private:
    struct Rule;
    std::vector<std::unique_ptr<Rule>> m_rules;
};

} // namespace Gateway::Safety
