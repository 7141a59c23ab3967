#include "routing/ruleset.h"

#include <QTest>

#include <utility>
#include <vector>

using Gateway::Routing::RequestFacts;
using Gateway::Routing::RuleSet;

namespace {

using Headers = std::vector<std::pair<QByteArray, QByteArray>>;

QByteArrayView lookup(const void *context, QByteArrayView name)
{
    for (const auto &[key, value] : *static_cast<const Headers *>(context)) {
        if (key == name) {
            return value;
        }
    }
    return {};
}

RuleSet::Rule rule(const char *name, RuleSet::Conditions when, int route = 1)
{
    RuleSet::Rule rule;
    rule.name = name;
    rule.when = std::move(when);
    rule.action.route = route;
    return rule;
}

RuleSet single(RuleSet::Conditions when)
{
    RuleSet rules;
    const auto error = rules.add(rule("only", std::move(when)));
    if (error) {
        qFatal("%s", qPrintable(*error));
    }
    return rules;
}

// A request with nothing special about it.
struct Request {
    Headers headers;
    QString virtualKey;
    QByteArray message;
    RequestFacts facts;

    Request()
    {
        facts.headerLookup = &lookup;
        facts.estimatedPromptTokens = 100;
    }

    const RequestFacts &get()
    {
        facts.headerContext = &headers; // after a copy, this request's own headers
        facts.virtualKey = virtualKey;
        facts.lastUserMessage = message;
        return facts;
    }
};

bool matches(const RuleSet &rules, Request &request)
{
    return static_cast<bool>(rules.match(request.get()));
}

} // namespace

class TestRuleSet final : public QObject {
    Q_OBJECT

private slots:
    void virtualKeyIsOneOf();
    void headerEqualsValue();
    void promptTokenBounds();
    void maxTokensBounds();
    void imagesAndTools();
    void regexOnLastUserMessage();
    void keywordsAnyOfCaseInsensitive();
    void allConditionsMustHold();
    void firstMatchWins();
    void noMatchWithoutAnyRuleHolding();
    void ruleWithoutConditionIsAConfigError();
    void invalidRegexIsAConfigError();
    void unnamedRulesAreNumbered();
    void readsLastUserMessageOnlyWithTextConditions();
};

void TestRuleSet::virtualKeyIsOneOf()
{
    RuleSet::Conditions when;
    when.virtualKeys = {QStringLiteral("team-a"), QStringLiteral("team-b")};
    const RuleSet rules = single(when);
    Request request;
    QVERIFY(!matches(rules, request)); // no key at all
    request.virtualKey = QStringLiteral("team-b");
    QVERIFY(matches(rules, request));
    request.virtualKey = QStringLiteral("team-c");
    QVERIFY(!matches(rules, request));
    request.virtualKey = QStringLiteral("TEAM-A"); // names are exact
    QVERIFY(!matches(rules, request));
}

void TestRuleSet::headerEqualsValue()
{
    RuleSet::Conditions when;
    when.headers = {{"x-tier", "gold"}, {"x-team", "ml"}};
    const RuleSet rules = single(when);
    Request request;
    QVERIFY(!matches(rules, request));
    request.headers = {{"x-tier", "gold"}};
    QVERIFY(!matches(rules, request)); // both headers are conditions
    request.headers = {{"x-tier", "gold"}, {"x-team", "ml"}};
    QVERIFY(matches(rules, request));
    request.headers = {{"x-tier", "Gold"}, {"x-team", "ml"}};
    QVERIFY(!matches(rules, request)); // values are exact
    request.headers = {{"x-tier", "gold-plus"}, {"x-team", "ml"}};
    QVERIFY(!matches(rules, request));
}

void TestRuleSet::promptTokenBounds()
{
    RuleSet::Conditions when;
    when.minPromptTokens = 4000;
    when.maxPromptTokens = 8000;
    const RuleSet rules = single(when);
    Request request;
    for (const auto &[tokens, expected] : std::vector<std::pair<int, bool>> {
             {3999, false}, {4000, true}, {6000, true}, {8000, true}, {8001, false}}) {
        request.facts.estimatedPromptTokens = tokens;
        QVERIFY2(matches(rules, request) == expected, qPrintable(QString::number(tokens)));
    }
}

void TestRuleSet::maxTokensBounds()
{
    RuleSet::Conditions atLeast;
    atLeast.minMaxTokens = 2000;
    RuleSet::Conditions atMost;
    atMost.maxMaxTokens = 256;
    const RuleSet big = single(atLeast);
    const RuleSet small = single(atMost);
    Request request;
    // A request that names no max_tokens matches neither bound.
    QVERIFY(!matches(big, request));
    QVERIFY(!matches(small, request));
    request.facts.maxTokens = 2000;
    QVERIFY(matches(big, request));
    QVERIFY(!matches(small, request));
    request.facts.maxTokens = 256;
    QVERIFY(!matches(big, request));
    QVERIFY(matches(small, request));
}

void TestRuleSet::imagesAndTools()
{
    RuleSet::Conditions images;
    images.hasImages = true;
    RuleSet::Conditions noTools;
    noTools.hasTools = false;
    const RuleSet vision = single(images);
    const RuleSet plain = single(noTools);
    Request request;
    QVERIFY(!matches(vision, request));
    QVERIFY(matches(plain, request));
    request.facts.hasImages = true;
    request.facts.hasTools = true;
    QVERIFY(matches(vision, request));
    QVERIFY(!matches(plain, request)); // false is a condition too: "no tools"
}

void TestRuleSet::regexOnLastUserMessage()
{
    RuleSet::Conditions when;
    when.messagePattern = QStringLiteral("(?i)\\b(def|class|function)\\b");
    const RuleSet rules = single(when);
    Request request;
    QVERIFY(!matches(rules, request));
    request.message = "Why does my Python DEF fail?";
    QVERIFY(matches(rules, request));
    request.message = "Tell me about the defence of Rorke's Drift";
    QVERIFY(!matches(rules, request));
    // UTF-8 text is matched as text.
    RuleSet::Conditions unicode;
    unicode.messagePattern = QStringLiteral("^\u00e9t\u00e9$");
    const RuleSet accents = single(unicode);
    request.message = "\xc3\xa9t\xc3\xa9";
    QVERIFY(matches(accents, request));
}

void TestRuleSet::keywordsAnyOfCaseInsensitive()
{
    RuleSet::Conditions when;
    when.messageKeywords = {QStringLiteral("python"), QStringLiteral("stack trace")};
    const RuleSet rules = single(when);
    Request request;
    QVERIFY(!matches(rules, request));
    request.message = "Here is a STACK TRACE from prod";
    QVERIFY(matches(rules, request));
    request.message = "I like PyThOn";
    QVERIFY(matches(rules, request));
    request.message = "stack and trace";
    QVERIFY(!matches(rules, request));
}

void TestRuleSet::allConditionsMustHold()
{
    RuleSet::Conditions when;
    when.virtualKeys = {QStringLiteral("team-a")};
    when.headers = {{"x-tier", "gold"}};
    when.minPromptTokens = 1000;
    when.hasTools = true;
    when.messageKeywords = {QStringLiteral("python")};
    const RuleSet rules = single(when);
    Request request;
    request.virtualKey = QStringLiteral("team-a");
    request.headers = {{"x-tier", "gold"}};
    request.facts.estimatedPromptTokens = 1500;
    request.facts.hasTools = true;
    request.message = "python please";
    QVERIFY(matches(rules, request));
    // Each condition alone failing makes the rule fail.
    Request other = request;
    other.virtualKey = QStringLiteral("team-b");
    QVERIFY(!matches(rules, other));
    other = request;
    other.headers.clear();
    QVERIFY(!matches(rules, other));
    other = request;
    other.facts.estimatedPromptTokens = 999;
    QVERIFY(!matches(rules, other));
    other = request;
    other.facts.hasTools = false;
    QVERIFY(!matches(rules, other));
    other = request;
    other.message = "rust please";
    QVERIFY(!matches(rules, other));
}

void TestRuleSet::firstMatchWins()
{
    RuleSet rules;
    RuleSet::Conditions vision;
    vision.hasImages = true;
    RuleSet::Conditions longPrompt;
    longPrompt.minPromptTokens = 4000;
    QVERIFY(!rules.add(rule("vision", vision, 7)));
    QVERIFY(!rules.add(rule("long", longPrompt, 8)));
    RuleSet::Rule narrow = rule("also-long", longPrompt, -1);
    narrow.action.targets = {0, 2};
    QVERIFY(!rules.add(std::move(narrow)));
    Request request;
    request.facts.estimatedPromptTokens = 5000;
    request.facts.hasImages = true;
    auto match = rules.match(request.get());
    QVERIFY(match);
    QCOMPARE(match.index, 0);
    QCOMPARE(match.rule->name, QByteArrayLiteral("vision"));
    QCOMPARE(match.rule->action.route, 7);
    request.facts.hasImages = false;
    match = rules.match(request.get());
    QCOMPARE(match.index, 1); // "also-long" would match too, but comes later
    QCOMPARE(match.rule->action.route, 8);
    QCOMPARE(rules.rule(2).action.targets, (std::vector<int> {0, 2}));
}

void TestRuleSet::noMatchWithoutAnyRuleHolding()
{
    RuleSet rules;
    QVERIFY(!rules.match(Request().get()));
    RuleSet::Conditions vision;
    vision.hasImages = true;
    QVERIFY(!rules.add(rule("vision", vision)));
    Request request;
    const auto match = rules.match(request.get());
    QVERIFY(!match);
    QCOMPARE(match.index, -1);
}

void TestRuleSet::ruleWithoutConditionIsAConfigError()
{
    RuleSet rules;
    const auto error = rules.add(rule("catch-all", {}));
    QVERIFY(error);
    QVERIFY2(error->contains(QStringLiteral("catch-all")) && error->contains(QStringLiteral("no condition")),
             qPrintable(*error));
    QVERIFY(rules.empty()); // nothing was added
}

void TestRuleSet::invalidRegexIsAConfigError()
{
    RuleSet rules;
    RuleSet::Conditions when;
    when.messagePattern = QStringLiteral("(unclosed");
    const auto error = rules.add(rule("code", when));
    QVERIFY(error);
    QVERIFY2(error->contains(QStringLiteral("invalid regular expression")), qPrintable(*error));
    QVERIFY(rules.empty());
}

void TestRuleSet::unnamedRulesAreNumbered()
{
    RuleSet rules;
    RuleSet::Conditions images;
    images.hasImages = true;
    QVERIFY(!rules.add(rule("", images)));
    QVERIFY(!rules.add(rule("named", images)));
    QVERIFY(!rules.add(rule("", images)));
    QCOMPARE(rules.rule(0).name, QByteArrayLiteral("#1"));
    QCOMPARE(rules.rule(1).name, QByteArrayLiteral("named"));
    QCOMPARE(rules.rule(2).name, QByteArrayLiteral("#3"));
}

void TestRuleSet::readsLastUserMessageOnlyWithTextConditions()
{
    RuleSet rules;
    RuleSet::Conditions images;
    images.hasImages = true;
    QVERIFY(!rules.add(rule("vision", images)));
    QVERIFY(!rules.readsLastUserMessage());
    RuleSet::Conditions keywords;
    keywords.messageKeywords = {QStringLiteral("python")};
    QVERIFY(!rules.add(rule("code", keywords)));
    QVERIFY(rules.readsLastUserMessage());
}

QTEST_APPLESS_MAIN(TestRuleSet)
#include "testruleset.moc"
