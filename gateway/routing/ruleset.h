#pragma once

#include "requestfacts.h"

#include <QByteArray>
#include <QRegularExpression>
#include <QString>
#include <QStringList>
#include <QStringMatcher>

#include <optional>
#include <utility>
#include <vector>

namespace Gateway::Routing {

// Conditional routing: an ordered list of rules, each a conjunction of conditions on a
// request's facts and an action. The first rule whose conditions all hold decides; when
// none does, the caller goes on with the route's split or strategy.
//
// Evaluation order inside a rule is cheapest first (integers and flags, then the virtual
// key and headers, then keywords, then the regular expression), and stops at the first
// condition that fails, so an expensive condition only runs on requests the cheap ones
// already let through. The last user message is converted to UTF-16 (what
// QRegularExpression and QStringMatcher read) at most once per match() call, and only
// when a rule reaches a text condition.
//
// Immutable after the last add(): match() is const and keeps its scratch on the stack,
// and the regular expressions are compiled (and JIT-optimised) in add(), so one RuleSet
// serves every worker thread without locks.
class RuleSet final {
public:
    struct Conditions {
        QStringList virtualKeys;                                // any of
        std::vector<std::pair<QByteArray, QByteArray>> headers; // lower-case name, exact value; all must hold
        int minPromptTokens = -1;                               // -1 = no bound
        int maxPromptTokens = -1;
        std::optional<bool> hasImages;
        std::optional<bool> hasTools;
        QString messagePattern;        // regular expression on the last user message; empty = none
        QStringList messageKeywords;   // any of, case-insensitive substring of the last user message
        int minMaxTokens = -1;         // requested max_tokens; a request without it matches neither bound
        int maxMaxTokens = -1;

        bool isEmpty() const;
    };

    // What a matching rule does; indices mean whatever the caller compiled them from
    // (RouteTable: an index into its routes, indices into the route's targets).
    struct Action {
        int route = -1;           // >= 0: send the request to this route
        std::vector<int> targets; // otherwise: narrow the route to these targets
    };

    struct Rule {
        QByteArray name; // "#<1-based position>" when added without one
        Conditions when;
        Action action;
    };

    struct Match {
        int index = -1;
        const Rule *rule = nullptr;

        explicit operator bool() const { return rule != nullptr; }
    };

    // Appends a rule. Returns an error (and adds nothing) when the rule has no condition
    // or its regular expression does not compile.
    std::optional<QString> add(Rule rule);

    Match match(const RequestFacts &facts) const;

    bool empty() const { return m_rules.empty(); }
    std::size_t size() const { return m_rules.size(); }
    const Rule &rule(std::size_t index) const { return m_rules[index].rule; }
    // True when some rule reads the last user message, so the inspector must capture it.
    bool readsLastUserMessage() const { return m_readsLastUserMessage; }

private:
    struct Compiled {
        Rule rule;
        QRegularExpression pattern;
        std::vector<QStringMatcher> keywords;
    };

    // Lazily converted message text, shared by the rules of one match() call.
    struct MessageText {
        QByteArrayView utf8;
        std::optional<QString> text;

        const QString &get();
    };

    static bool holds(const Compiled &compiled, const RequestFacts &facts, MessageText &message);

    std::vector<Compiled> m_rules;
    bool m_readsLastUserMessage = false;
};

} // namespace Gateway::Routing
