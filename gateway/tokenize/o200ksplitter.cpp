#include "tokenize/o200ksplitter.h"

#include "tokenize/charclass.h"
#include "tokenize/splitrules.h"

namespace Gateway::Tokenize {

namespace {

// [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
bool isUpperish(CharKind k)
{
    return k == CharKind::Upper || k == CharKind::OtherLetter || k == CharKind::Mark;
}

// [\p{Ll}\p{Lm}\p{Lo}\p{M}]
bool isLowerish(CharKind k)
{
    return k == CharKind::Lower || k == CharKind::OtherLetter || k == CharKind::Mark;
}

qsizetype lowerishRunEnd(const unsigned char *data, qsizetype size, qsizetype pos)
{
    while (pos < size) {
        const CharInfo c = charAt(data + pos, data + size);
        if (!isLowerish(c.kind)) {
            break;
        }
        pos += c.length;
    }
    return pos;
}

// Upper* Lower+ from pos, or -1. The greedy Upper* takes the whole upper-ish run; if what
// follows is not lower-ish it backtracks to the last character of the run that is both
// (Lm, Lo or a mark), which then is the whole Lower+ (the one after it is upper-only).
qsizetype matchUpperStarLowerPlus(const unsigned char *data, qsizetype size, qsizetype pos)
{
    qsizetype lastBoth = -1;
    qsizetype lastBothEnd = -1;
    while (pos < size) {
        const CharInfo c = charAt(data + pos, data + size);
        if (!isUpperish(c.kind)) {
            if (c.kind == CharKind::Lower) {
                return lowerishRunEnd(data, size, pos + c.length);
            }
            break;
        }
        if (c.kind != CharKind::Upper) {
            lastBoth = pos;
            lastBothEnd = pos + c.length;
        }
        pos += c.length;
    }
    return lastBoth >= 0 ? lastBothEnd : -1;
}

// Upper+ Lower* from pos, or -1.
qsizetype matchUpperPlusLowerStar(const unsigned char *data, qsizetype size, qsizetype pos)
{
    if (pos >= size || !isUpperish(charAt(data + pos, data + size).kind)) {
        return -1;
    }
    while (pos < size) {
        const CharInfo c = charAt(data + pos, data + size);
        if (!isUpperish(c.kind)) {
            break;
        }
        pos += c.length;
    }
    return lowerishRunEnd(data, size, pos);
}

qsizetype withContraction(const unsigned char *data, qsizetype size, qsizetype end)
{
    return end < size ? end + contractionLength(data, size, end) : end;
}

} // namespace

qsizetype o200kPieceEnd(QByteArrayView text, qsizetype start)
{
    const auto *data = reinterpret_cast<const unsigned char *>(text.data());
    const qsizetype size = text.size();
    const CharInfo c = charAt(data + start, data + size);
    const bool prefixable = isWordPrefix(c.kind);
    const qsizetype next = start + c.length;

    // The two word alternatives, each first with the optional prefix and then without,
    // in the order a backtracking engine explores them.
    if (prefixable && next < size) {
        if (const qsizetype end = matchUpperStarLowerPlus(data, size, next); end >= 0) {
            return withContraction(data, size, end);
        }
    }
    if (isUpperish(c.kind) || isLowerish(c.kind)) {
        if (const qsizetype end = matchUpperStarLowerPlus(data, size, start); end >= 0) {
            return withContraction(data, size, end);
        }
    }
    if (prefixable && next < size) {
        if (const qsizetype end = matchUpperPlusLowerStar(data, size, next); end >= 0) {
            return withContraction(data, size, end);
        }
    }
    if (const qsizetype end = matchUpperPlusLowerStar(data, size, start); end >= 0) {
        return withContraction(data, size, end);
    }
    if (c.kind == CharKind::Number) {
        return numberRunEnd(data, size, start);
    }
    if (isPunct(c.kind)) {
        return punctRunEnd(data, size, start, true);
    }
    if (c.codePoint == ' ' && next < size && isPunct(charAt(data + next, data + size).kind)) {
        return punctRunEnd(data, size, next, true);
    }
    return whitespaceEnd(data, size, start);
}

} // namespace Gateway::Tokenize
