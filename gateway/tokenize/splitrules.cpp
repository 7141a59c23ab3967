#include "tokenize/splitrules.h"

#include "tokenize/charclass.h"

namespace Gateway::Tokenize {

namespace {

char32_t foldAscii(char32_t c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

// One letter of a case-insensitive contraction. Unicode simple case folding maps U+017F
// (long s) to 's', so the regex engines accept it too.
bool letterMatches(const unsigned char *data, qsizetype size, qsizetype &pos, char32_t lower)
{
    if (pos >= size) {
        return false;
    }
    const CharInfo c = charAt(data + pos, data + size);
    if (foldAscii(c.codePoint) == lower || (lower == 's' && c.codePoint == 0x17F)) {
        pos += c.length;
        return true;
    }
    return false;
}

} // namespace

qsizetype contractionLength(const unsigned char *data, qsizetype size, qsizetype pos)
{
    if (data[pos] != '\'') {
        return 0;
    }
    const qsizetype start = pos;
    // Alternatives in pattern order; each is tried from just after the apostrophe.
    static constexpr const char *kSuffixes[] = {"s", "t", "re", "ve", "m", "ll", "d"};
    for (const char *suffix : kSuffixes) {
        qsizetype p = start + 1;
        bool ok = true;
        for (const char *s = suffix; *s != 0 && ok; ++s) {
            ok = letterMatches(data, size, p, char32_t(*s));
        }
        if (ok) {
            return p - start;
        }
    }
    return 0;
}

qsizetype numberRunEnd(const unsigned char *data, qsizetype size, qsizetype pos)
{
    int count = 0;
    while (pos < size && count < 3) {
        const CharInfo c = charAt(data + pos, data + size);
        if (c.kind != CharKind::Number) {
            break;
        }
        pos += c.length;
        ++count;
    }
    return pos;
}

qsizetype punctRunEnd(const unsigned char *data, qsizetype size, qsizetype pos, bool slashInTail)
{
    while (pos < size) {
        const CharInfo c = charAt(data + pos, data + size);
        if (!isPunct(c.kind)) {
            break;
        }
        pos += c.length;
    }
    while (pos < size && (data[pos] == '\r' || data[pos] == '\n' || (slashInTail && data[pos] == '/'))) {
        ++pos;
    }
    return pos;
}

qsizetype whitespaceEnd(const unsigned char *data, qsizetype size, qsizetype pos)
{
    // Scan the maximal whitespace run, remembering where the last \r or \n ends and where
    // the last character starts: the three alternatives only differ in where they cut it.
    qsizetype end = pos;
    qsizetype afterLastNewline = -1;
    qsizetype lastCharStart = pos;
    int chars = 0;
    while (end < size) {
        const CharInfo c = charAt(data + end, data + size);
        if (!isWhitespace(c.kind)) {
            break;
        }
        lastCharStart = end;
        end += c.length;
        ++chars;
        if (c.kind == CharKind::Newline) {
            afterLastNewline = end;
        }
    }
    // \s*[\r\n]+ backtracks the greedy \s* until [\r\n]+ fits: up to the last newline.
    if (afterLastNewline >= 0) {
        return afterLastNewline;
    }
    // \s+(?!\S): the whole run at the end of the text; otherwise give back the last
    // character so it can prefix the next word (" word"), if the run has two or more.
    if (end == size) {
        return end;
    }
    if (chars >= 2) {
        return lastCharStart;
    }
    // \s+: a single space before a non-space that no earlier alternative took.
    return end;
}

} // namespace Gateway::Tokenize
