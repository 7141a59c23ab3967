#include "ratelimitheaders.h"

#include <QDate>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace Gateway::Routing {

namespace {

constexpr qint64 MS_PER_SECOND = 1000;
constexpr qint64 MS_PER_DAY = 86400 * MS_PER_SECOND;
constexpr qint64 NS_PER_MS = 1000000;
constexpr qint64 JULIAN_DAY_OF_UNIX_EPOCH = 2440588; // 1970-01-01
// Larger values are nonsense for a rate limit (and could overflow): about 11.5 days.
constexpr qint64 MAX_DELAY_MS = 1000000000;
constexpr int MAX_INTEGER_DIGITS = 15;  // below int64 overflow even after scaling to ns per hour
constexpr int MAX_FRACTION_DIGITS = 9;  // ns resolution; further digits are dropped

constexpr QByteArrayView OPENAI_PREFIX = "x-ratelimit-";
constexpr QByteArrayView ANTHROPIC_PREFIX = "anthropic-ratelimit-";

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

// A run of digits starting at `pos`; advances `pos`. nullopt when there is none or it is too long.
std::optional<std::int64_t> digitsAt(QByteArrayView text, qsizetype &pos, int maxDigits, int *count = nullptr)
{
    std::int64_t value = 0;
    int digits = 0;
    while (pos < text.size() && isDigit(text[pos])) {
        if (++digits > maxDigits) {
            return std::nullopt;
        }
        value = value * 10 + (text[pos] - '0');
        ++pos;
    }
    if (count != nullptr) {
        *count = digits;
    }
    return digits == 0 ? std::nullopt : std::optional<std::int64_t> {value};
}

// Exactly `width` digits at `pos`.
std::optional<int> fixedDigits(QByteArrayView text, qsizetype &pos, int width)
{
    if (pos + width > text.size()) {
        return std::nullopt;
    }
    int value = 0;
    for (int i = 0; i < width; ++i) {
        const char c = text[pos + i];
        if (!isDigit(c)) {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    pos += width;
    return value;
}

bool expect(QByteArrayView text, qsizetype &pos, char c)
{
    if (pos < text.size() && text[pos] == c) {
        ++pos;
        return true;
    }
    return false;
}

std::int64_t pow10(int exponent)
{
    std::int64_t value = 1;
    for (int i = 0; i < exponent; ++i) {
        value *= 10;
    }
    return value;
}

// "12" or "1.25" times `multiplier`, rounded up: seconds or ms to ms.
std::optional<qint64> parseDecimalCeil(QByteArrayView text, qint64 multiplier)
{
    qsizetype pos = 0;
    int wholeDigits = 0;
    qint64 whole = 0;
    if (pos < text.size() && isDigit(text[pos])) {
        const auto parsed = digitsAt(text, pos, MAX_INTEGER_DIGITS, &wholeDigits);
        if (!parsed) {
            return std::nullopt;
        }
        whole = *parsed;
    }
    qint64 fractionUp = 0;
    if (expect(text, pos, '.')) {
        int digits = 0;
        std::int64_t fraction = 0;
        while (pos < text.size() && isDigit(text[pos])) {
            if (digits < MAX_FRACTION_DIGITS) {
                fraction = fraction * 10 + (text[pos] - '0');
                ++digits;
            }
            ++pos;
        }
        if (digits == 0 && wholeDigits == 0) {
            return std::nullopt;
        }
        const std::int64_t scale = pow10(digits);
        fractionUp = (fraction * multiplier + scale - 1) / scale;
    } else if (wholeDigits == 0) {
        return std::nullopt;
    }
    if (pos != text.size() || whole > MAX_DELAY_MS) {
        return std::nullopt;
    }
    const qint64 value = whole * multiplier + fractionUp;
    return value > MAX_DELAY_MS ? std::nullopt : std::optional<qint64> {value};
}

std::optional<int> monthFromName(QByteArrayView name)
{
    static constexpr std::array<QByteArrayView, 12> MONTHS {"jan", "feb", "mar", "apr", "may", "jun",
                                                            "jul", "aug", "sep", "oct", "nov", "dec"};
    for (std::size_t i = 0; i < MONTHS.size(); ++i) {
        if (name.compare(MONTHS[i], Qt::CaseInsensitive) == 0) {
            return static_cast<int>(i) + 1;
        }
    }
    return std::nullopt;
}

bool isAlphaWord(QByteArrayView word)
{
    return !word.isEmpty() && std::all_of(word.begin(), word.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    });
}

// "08:49:37"; a leap second (60) counts as 59.
std::optional<qint64> timeOfDayMs(QByteArrayView text)
{
    qsizetype pos = 0;
    const auto h = fixedDigits(text, pos, 2);
    if (!h || !expect(text, pos, ':')) {
        return std::nullopt;
    }
    const auto m = fixedDigits(text, pos, 2);
    if (!m || !expect(text, pos, ':')) {
        return std::nullopt;
    }
    const auto s = fixedDigits(text, pos, 2);
    if (!s || pos != text.size() || *h > 23 || *m > 59 || *s > 60) {
        return std::nullopt;
    }
    return ((qint64 {*h} * 60 + *m) * 60 + std::min(*s, 59)) * MS_PER_SECOND;
}

std::optional<qint64> epochMs(int year, int month, int day, qint64 timeMs)
{
    const QDate date {year, month, day};
    if (!date.isValid()) {
        return std::nullopt;
    }
    return (date.toJulianDay() - JULIAN_DAY_OF_UNIX_EPOCH) * MS_PER_DAY + timeMs;
}

std::optional<int> dayNumber(QByteArrayView text)
{
    if (text.size() < 1 || text.size() > 2 || !std::all_of(text.begin(), text.end(), isDigit)) {
        return std::nullopt;
    }
    return text.size() == 1 ? text[0] - '0' : (text[0] - '0') * 10 + (text[1] - '0');
}

std::optional<int> yearNumber(QByteArrayView text)
{
    qsizetype pos = 0;
    const auto year = fixedDigits(text, pos, 4);
    return year && pos == text.size() ? year : std::nullopt;
}

bool isGmt(QByteArrayView zone)
{
    return zone == "GMT" || zone == "UTC";
}

} // namespace

bool RateLimitHeaders::isEmpty() const
{
    return remainingRequests < 0 && remainingTokens < 0 && limitRequests < 0 && limitTokens < 0
        && resetRequestsMs < 0 && resetTokensMs < 0 && retryAfterMs < 0;
}

RateLimitHeaders RateLimitHeaders::parse(std::span<const HeaderPair> headers, qint64 nowEpochMs)
{
    Reader reader {nowEpochMs};
    for (const auto &[name, value] : headers) {
        reader.add(name, value);
    }
    return reader.result();
}

RateLimitHeaders::Reader::Reader(qint64 nowEpochMs)
    : m_nowEpochMs {nowEpochMs}
{
}

bool RateLimitHeaders::Reader::setCount(Bucket &bucket, QByteArrayView field, QByteArrayView value)
{
    if (field == "remaining") {
        bucket.remaining = parseCount(value).value_or(bucket.remaining);
        return true;
    }
    if (field == "limit") {
        bucket.limit = parseCount(value).value_or(bucket.limit);
        return true;
    }
    return false;
}

bool RateLimitHeaders::Reader::add(QByteArrayView lowerName, QByteArrayView value)
{
    value = value.trimmed();
    if (lowerName.startsWith(OPENAI_PREFIX)) {
        const QByteArrayView rest = lowerName.sliced(OPENAI_PREFIX.size());
        const qsizetype dash = rest.indexOf('-');
        if (dash < 0) {
            return false;
        }
        const QByteArrayView field = rest.first(dash);
        const QByteArrayView dimension = rest.sliced(dash + 1);
        Bucket *bucket = dimension == "requests" ? &m_buckets[OpenAiRequests]
            : dimension == "tokens"              ? &m_buckets[OpenAiTokens]
                                                 : nullptr;
        if (bucket == nullptr) {
            return false;
        }
        if (setCount(*bucket, field, value)) {
            return true;
        }
        if (field != "reset") {
            return false;
        }
        const auto ms = parseGoDurationMs(value); // OpenAI: a duration ("6m0s")
        if (ms && *ms <= MAX_DELAY_MS) {
            bucket->resetMs = *ms;
        }
        return true;
    }
    if (lowerName.startsWith(ANTHROPIC_PREFIX)) {
        const QByteArrayView rest = lowerName.sliced(ANTHROPIC_PREFIX.size());
        const qsizetype dash = rest.lastIndexOf('-');
        if (dash < 0) {
            return false;
        }
        const QByteArrayView dimension = rest.first(dash);
        const QByteArrayView field = rest.sliced(dash + 1);
        Bucket *bucket = dimension == "requests"  ? &m_buckets[Requests]
            : dimension == "tokens"               ? &m_buckets[Tokens]
            : dimension == "input-tokens"         ? &m_buckets[InputTokens]
            : dimension == "output-tokens"        ? &m_buckets[OutputTokens]
                                                  : nullptr;
        if (bucket == nullptr) {
            return false;
        }
        if (setCount(*bucket, field, value)) {
            return true;
        }
        if (field != "reset") {
            return false;
        }
        const auto at = parseRfc3339Ms(value); // Anthropic: a timestamp
        if (at && *at - m_nowEpochMs <= MAX_DELAY_MS) {
            bucket->resetMs = std::max<qint64>(0, *at - m_nowEpochMs); // a past reset: already reset
        }
        return true;
    }
    if (lowerName == "retry-after-ms") {
        if (const auto ms = parseDecimalCeil(value, 1)) {
            m_retryAfterMsHeader = *ms;
        }
        return true;
    }
    if (lowerName == "retry-after") {
        if (const auto ms = parseDecimalCeil(value, MS_PER_SECOND)) {
            m_retryAfterMs = *ms;
        } else if (const auto at = parseHttpDateMs(value); at && *at - m_nowEpochMs <= MAX_DELAY_MS) {
            m_retryAfterMs = std::max<qint64>(0, *at - m_nowEpochMs);
        }
        return true;
    }
    return false;
}

// The most constraining bucket of a range: smallest remaining (ties: the later reset),
// with its own limit and reset. Without any remaining, the latest reset and smallest limit.
void RateLimitHeaders::Reader::combine(const Bucket *begin, const Bucket *end, std::int64_t &remaining,
                                       std::int64_t &limit, qint64 &resetMs)
{
    const Bucket *tightest = nullptr;
    qint64 latestReset = -1;
    std::int64_t smallestLimit = -1;
    for (const Bucket *b = begin; b != end; ++b) {
        latestReset = std::max(latestReset, b->resetMs);
        if (b->limit >= 0 && (smallestLimit < 0 || b->limit < smallestLimit)) {
            smallestLimit = b->limit;
        }
        if (b->remaining < 0) {
            continue;
        }
        if (tightest == nullptr || b->remaining < tightest->remaining
            || (b->remaining == tightest->remaining && b->resetMs > tightest->resetMs)) {
            tightest = b;
        }
    }
    if (tightest == nullptr) {
        limit = smallestLimit;
        resetMs = latestReset;
        return;
    }
    remaining = tightest->remaining;
    limit = tightest->limit >= 0 ? tightest->limit : smallestLimit;
    resetMs = tightest->resetMs >= 0 ? tightest->resetMs : latestReset;
}

RateLimitHeaders RateLimitHeaders::Reader::result() const
{
    RateLimitHeaders headers;
    combine(&m_buckets[OpenAiRequests], &m_buckets[OpenAiTokens], headers.remainingRequests, headers.limitRequests,
            headers.resetRequestsMs);
    combine(&m_buckets[OpenAiTokens], &m_buckets[0] + BucketCount, headers.remainingTokens, headers.limitTokens,
            headers.resetTokensMs);
    headers.retryAfterMs = m_retryAfterMsHeader >= 0 ? m_retryAfterMsHeader : m_retryAfterMs;
    return headers;
}

std::optional<std::int64_t> RateLimitHeaders::parseCount(QByteArrayView text)
{
    text = text.trimmed();
    qsizetype pos = 0;
    const auto value = digitsAt(text, pos, 18);
    return value && pos == text.size() ? value : std::nullopt;
}

std::optional<qint64> RateLimitHeaders::parseGoDurationMs(QByteArrayView text)
{
    struct Unit {
        QByteArrayView name;
        qint64 ns;
    };
    // Longest names first so "ms" is not read as "m" followed by garbage.
    static constexpr std::array<Unit, 8> UNITS {{
        {"ns", 1},
        {"us", 1000},
        {"\xC2\xB5s", 1000}, // U+00B5 micro sign
        {"\xCE\xBCs", 1000}, // U+03BC Greek mu
        {"ms", NS_PER_MS},
        {"s", 1000 * NS_PER_MS},
        {"m", 60 * 1000 * NS_PER_MS},
        {"h", 3600 * 1000 * NS_PER_MS},
    }};
    constexpr qint64 MAX_NS = MAX_DELAY_MS * NS_PER_MS;

    text = text.trimmed();
    if (text.startsWith('+')) {
        text = text.sliced(1); // Go accepts a sign; a negative reset is meaningless
    }
    if (text == "0") {
        return 0;
    }
    if (text.isEmpty()) {
        return std::nullopt;
    }
    qint64 totalNs = 0;
    qsizetype pos = 0;
    while (pos < text.size()) {
        int wholeDigits = 0;
        std::int64_t whole = 0;
        if (isDigit(text[pos])) {
            const auto parsed = digitsAt(text, pos, MAX_INTEGER_DIGITS, &wholeDigits);
            if (!parsed) {
                return std::nullopt;
            }
            whole = *parsed;
        }
        std::int64_t fraction = 0;
        int fractionDigits = 0;
        if (expect(text, pos, '.')) {
            while (pos < text.size() && isDigit(text[pos])) {
                if (fractionDigits < MAX_FRACTION_DIGITS) {
                    fraction = fraction * 10 + (text[pos] - '0');
                    ++fractionDigits;
                }
                ++pos;
            }
            if (fractionDigits == 0 && wholeDigits == 0) {
                return std::nullopt;
            }
        } else if (wholeDigits == 0) {
            return std::nullopt;
        }
        const Unit *unit = nullptr;
        for (const Unit &candidate : UNITS) {
            if (text.sliced(pos).startsWith(candidate.name)) {
                unit = &candidate;
                break;
            }
        }
        if (unit == nullptr) {
            return std::nullopt; // a number without a unit (Go rejects it too)
        }
        pos += unit->name.size();
        if (whole > MAX_NS / unit->ns) {
            return std::nullopt;
        }
        // The fraction in ns, rounded to nearest: below one ns it is noise.
        const double fractionNs = std::round(static_cast<double>(fraction) * static_cast<double>(unit->ns)
                                             / static_cast<double>(pow10(fractionDigits)));
        totalNs += whole * unit->ns + static_cast<qint64>(fractionNs);
        if (totalNs > MAX_NS) {
            return std::nullopt;
        }
    }
    return (totalNs + NS_PER_MS - 1) / NS_PER_MS;
}

std::optional<qint64> RateLimitHeaders::parseHttpDateMs(QByteArrayView text)
{
    constexpr int MAX_TOKENS = 6;
    std::array<QByteArrayView, MAX_TOKENS> tokens;
    int count = 0;
    text = text.trimmed();
    qsizetype pos = 0;
    while (pos < text.size()) {
        while (pos < text.size() && text[pos] == ' ') {
            ++pos;
        }
        const qsizetype start = pos;
        while (pos < text.size() && text[pos] != ' ') {
            ++pos;
        }
        if (pos > start) {
            if (count == MAX_TOKENS) {
                return std::nullopt;
            }
            tokens[static_cast<std::size_t>(count++)] = text.sliced(start, pos - start);
        }
    }
    if (count < 4) {
        return std::nullopt;
    }
    const QByteArrayView first = tokens[0];
    if (first.endsWith(',')) {
        if (!isAlphaWord(first.chopped(1))) {
            return std::nullopt;
        }
        if (count == 6) {
            // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
            const auto day = dayNumber(tokens[1]);
            const auto month = monthFromName(tokens[2]);
            const auto year = yearNumber(tokens[3]);
            const auto time = timeOfDayMs(tokens[4]);
            if (!day || !month || !year || !time || !isGmt(tokens[5])) {
                return std::nullopt;
            }
            return epochMs(*year, *month, *day, *time);
        }
        if (count == 4) {
            // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
            const QByteArrayView date = tokens[1];
            if (date.size() != 9 || date[2] != '-' || date[6] != '-') {
                return std::nullopt;
            }
            const auto day = dayNumber(date.first(2));
            const auto month = monthFromName(date.sliced(3, 3));
            const auto yy = dayNumber(date.sliced(7, 2));
            const auto time = timeOfDayMs(tokens[2]);
            if (!day || !month || !yy || !time || !isGmt(tokens[3])) {
                return std::nullopt;
            }
            // Two-digit years: 70..99 are the 1900s, the rest this century (RFC 9110 asks
            // for "not more than 50 years ahead"; for a retry delay either reading works).
            const int year = *yy >= 70 ? 1900 + *yy : 2000 + *yy;
            return epochMs(year, *month, *day, *time);
        }
        return std::nullopt;
    }
    if (count == 5 && isAlphaWord(first)) {
        // asctime: "Sun Nov  6 08:49:37 1994"
        const auto month = monthFromName(tokens[1]);
        const auto day = dayNumber(tokens[2]);
        const auto time = timeOfDayMs(tokens[3]);
        const auto year = yearNumber(tokens[4]);
        if (!day || !month || !year || !time) {
            return std::nullopt;
        }
        return epochMs(*year, *month, *day, *time);
    }
    return std::nullopt;
}

std::optional<qint64> RateLimitHeaders::parseRfc3339Ms(QByteArrayView text)
{
    text = text.trimmed();
    qsizetype pos = 0;
    const auto year = fixedDigits(text, pos, 4);
    if (!year || !expect(text, pos, '-')) {
        return std::nullopt;
    }
    const auto month = fixedDigits(text, pos, 2);
    if (!month || !expect(text, pos, '-')) {
        return std::nullopt;
    }
    const auto day = fixedDigits(text, pos, 2);
    if (!day || !(expect(text, pos, 'T') || expect(text, pos, 't') || expect(text, pos, ' '))) {
        return std::nullopt;
    }
    const qsizetype timeStart = pos;
    pos += 8;
    if (pos > text.size()) {
        return std::nullopt;
    }
    const auto time = timeOfDayMs(text.sliced(timeStart, 8));
    if (!time) {
        return std::nullopt;
    }
    qint64 fractionMs = 0;
    if (expect(text, pos, '.')) {
        int digits = 0;
        std::int64_t fraction = 0;
        while (pos < text.size() && isDigit(text[pos])) {
            if (digits < MAX_FRACTION_DIGITS) {
                fraction = fraction * 10 + (text[pos] - '0');
                ++digits;
            }
            ++pos;
        }
        if (digits == 0) {
            return std::nullopt;
        }
        const std::int64_t scale = pow10(digits);
        fractionMs = (fraction * 1000 + scale - 1) / scale; // up: a reset must never be early
    }
    qint64 offsetMs = 0;
    if (expect(text, pos, 'Z') || expect(text, pos, 'z')) {
        // UTC
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        const int sign = text[pos] == '-' ? -1 : 1;
        ++pos;
        const auto oh = fixedDigits(text, pos, 2);
        if (!oh || !expect(text, pos, ':')) {
            return std::nullopt;
        }
        const auto om = fixedDigits(text, pos, 2);
        if (!om || *oh > 23 || *om > 59) {
            return std::nullopt;
        }
        offsetMs = sign * (qint64 {*oh} * 60 + *om) * 60 * MS_PER_SECOND;
    } else {
        return std::nullopt;
    }
    if (pos != text.size()) {
        return std::nullopt;
    }
    const auto local = epochMs(*year, *month, *day, *time + fractionMs);
    if (!local) {
        return std::nullopt;
    }
    return *local - offsetMs; // local = UTC + offset
}

} // namespace Gateway::Routing
