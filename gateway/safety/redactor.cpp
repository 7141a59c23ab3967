#include "redactor.h"

#include "luhn.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <re2/re2.h>

namespace Gateway::Safety {

struct Redactor::Rule {
    QByteArray name;
    QByteArray marker; // "[REDACTED:<name>]"
    std::unique_ptr<RE2> re;
    MatchCheck check = MatchCheck::None;
    Prefilter prefilter = Prefilter::None;

    bool accepts(QByteArrayView match) const { return check != MatchCheck::Luhn || isLuhnCardNumber(match); }
};

Redactor::Redactor(const std::vector<PatternSource> &sources)
{
    RE2::Options options;
    options.set_log_errors(false);
    for (const PatternSource &source : sources) {
        if (static_cast<int>(m_rules.size()) >= MAX_RULES) {
            break;
        }
        auto rule = std::make_unique<Rule>();
        rule->name = source.name;
        rule->marker = "[REDACTED:" + source.name + ']';
        rule->re = std::make_unique<RE2>(re2::StringPiece(source.regex.constData(), static_cast<std::size_t>(source.regex.size())),
                                         options);
        rule->check = source.check;
        rule->prefilter = source.prefilter;
        if (rule->re->ok()) { // validated before; a pattern RE2 refuses matches nothing
            m_rules.push_back(std::move(rule));
        }
    }
}

Redactor::~Redactor() = default;

const QByteArray &Redactor::ruleName(int index) const
{
    return m_rules[static_cast<std::size_t>(index)]->name;
}

std::uint64_t Redactor::redact(QByteArray &text) const
{
    std::uint64_t matched = 0;
    for (std::size_t r = 0; r < m_rules.size(); ++r) {
        const Rule &rule = *m_rules[r];
        if (!mayMatch(rule.prefilter, text)) {
            continue;
        }
        const re2::StringPiece input(text.constData(), static_cast<std::size_t>(text.size()));
        re2::StringPiece match;
        std::size_t position = 0;
        std::size_t copied = 0;
        QByteArray out;
        while (position <= input.size() &&
               rule.re->Match(input, position, input.size(), RE2::UNANCHORED, &match, 1)) {
            const auto begin = static_cast<std::size_t>(match.data() - input.data());
            const std::size_t end = begin + match.size();
            if (match.empty() || !rule.accepts(QByteArrayView(match.data(), static_cast<qsizetype>(match.size())))) {
                position = end + (match.empty() ? 1 : 0);
                continue;
            }
            if (out.isNull()) {
                out.reserve(text.size() + rule.marker.size());
            }
            out.append(text.constData() + copied, static_cast<qsizetype>(begin - copied));
            out.append(rule.marker);
            copied = end;
            position = end;
        }
        if (copied > 0) {
            out.append(text.constData() + copied, static_cast<qsizetype>(input.size() - copied));
            text = std::move(out);
            matched |= std::uint64_t {1} << r;
        }
    }
    return matched;
}

QByteArray Redactor::redacted(QByteArrayView text) const
{
    QByteArray copy = text.toByteArray();
    redact(copy);
    return copy;
}

QString Redactor::redacted(const QString &text) const
{
    QByteArray utf8 = text.toUtf8();
    return redact(utf8) != 0 ? QString::fromUtf8(utf8) : text;
}

namespace {

QJsonValue redactedValue(const Redactor &redactor, const QJsonValue &value)
{
    if (value.isString()) {
        return redactor.redacted(value.toString());
    }
    if (value.isArray()) {
        QJsonArray array = value.toArray();
        for (auto element : array) {
            element = redactedValue(redactor, element);
        }
        return array;
    }
    if (value.isObject()) {
        QJsonObject object = value.toObject();
        for (auto member : object) {
            member = redactedValue(redactor, member);
        }
        return object;
    }
    return value;
}

} // namespace

bool Redactor::redactJson(QByteArray &json) const
{
    // Cheap test first: most documents hold nothing to redact and are left as they are.
    QByteArray probe = json;
    if (redact(probe) == 0) {
        return false;
    }
    const QJsonDocument document = QJsonDocument::fromJson(json);
    if (document.isNull()) {
        json = std::move(probe);
        return true;
    }
    const QJsonValue redacted =
        redactedValue(*this, document.isObject() ? QJsonValue(document.object()) : QJsonValue(document.array()));
    json = (redacted.isObject() ? QJsonDocument(redacted.toObject()) : QJsonDocument(redacted.toArray()))
               .toJson(QJsonDocument::Compact);
    return true;
}

int Redactor::firstMatch(QByteArrayView text) const
{
    const re2::StringPiece input(text.data(), static_cast<std::size_t>(text.size()));
    for (std::size_t r = 0; r < m_rules.size(); ++r) {
        const Rule &rule = *m_rules[r];
        if (!mayMatch(rule.prefilter, text)) {
            continue;
        }
        re2::StringPiece match;
        std::size_t position = 0;
        while (position <= input.size() && rule.re->Match(input, position, input.size(), RE2::UNANCHORED, &match, 1)) {
            const auto begin = static_cast<std::size_t>(match.data() - input.data());
            if (!match.empty() && rule.accepts(QByteArrayView(match.data(), static_cast<qsizetype>(match.size())))) {
                return static_cast<int>(r);
            }
            position = begin + match.size() + (match.empty() ? 1 : 0);
        }
    }
    return -1;
}

} // namespace Gateway::Safety
