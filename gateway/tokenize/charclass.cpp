#include "tokenize/charclass.h"

#include <QChar>

namespace Gateway::Tokenize {

namespace {

constexpr CharKind U = CharKind::Upper;
constexpr CharKind L = CharKind::Lower;
constexpr CharKind N = CharKind::Number;
constexpr CharKind S = CharKind::Space;
constexpr CharKind R = CharKind::Newline;
constexpr CharKind O = CharKind::Other;

// Unicode White_Space, which is what \s means in the regex engines tiktoken uses.
bool isUnicodeWhiteSpace(char32_t c)
{
    switch (c) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
        return true;
    default:
        return c >= 0x2000 && c <= 0x200A;
    }
}

CharKind kindOf(char32_t c)
{
    if (isUnicodeWhiteSpace(c)) {
        return CharKind::Space;
    }
    switch (QChar::category(c)) {
    case QChar::Letter_Uppercase:
    case QChar::Letter_Titlecase:
        return CharKind::Upper;
    case QChar::Letter_Lowercase:
        return CharKind::Lower;
    case QChar::Letter_Modifier:
    case QChar::Letter_Other:
        return CharKind::OtherLetter;
    case QChar::Mark_NonSpacing:
    case QChar::Mark_SpacingCombining:
    case QChar::Mark_Enclosing:
        return CharKind::Mark;
    case QChar::Number_DecimalDigit:
    case QChar::Number_Letter:
    case QChar::Number_Other:
        return CharKind::Number;
    default:
        return CharKind::Other;
    }
}

CharInfo invalidByte()
{
    return {CharKind::Other, 1, 0xFFFD};
}

bool isContinuation(unsigned char b)
{
    return (b & 0xC0) == 0x80;
}

} // namespace

// clang-format off
const CharKind kAsciiKinds[128] = {
    O, O, O, O, O, O, O, O, O, S, R, S, S, R, O, O, // \t \n \v \f \r
    O, O, O, O, O, O, O, O, O, O, O, O, O, O, O, O,
    S, O, O, O, O, O, O, O, O, O, O, O, O, O, O, O, // space and punctuation
    N, N, N, N, N, N, N, N, N, N, O, O, O, O, O, O, // 0-9
    O, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, // A-O
    U, U, U, U, U, U, U, U, U, U, U, O, O, O, O, O, // P-Z
    O, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, // a-o
    L, L, L, L, L, L, L, L, L, L, L, O, O, O, O, O, // p-z
};
// clang-format on

// Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). A byte that does not
// start a well-formed sequence is one character of kind Other, so any byte string splits
// and every byte still reaches the BPE, which has a rank for each single byte.
CharInfo classifyNonAscii(const unsigned char *p, const unsigned char *end)
{
    const unsigned char b0 = p[0];
    const qsizetype avail = end - p;
    char32_t cp = 0;
    std::uint8_t len = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        if (avail < 2 || !isContinuation(p[1])) {
            return invalidByte();
        }
        cp = (char32_t(b0 & 0x1F) << 6) | (p[1] & 0x3F);
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        if (avail < 3 || !isContinuation(p[1]) || !isContinuation(p[2])) {
            return invalidByte();
        }
        cp = (char32_t(b0 & 0x0F) << 12) | (char32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
        if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return invalidByte();
        }
        len = 3;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        if (avail < 4 || !isContinuation(p[1]) || !isContinuation(p[2]) || !isContinuation(p[3])) {
            return invalidByte();
        }
        cp = (char32_t(b0 & 0x07) << 18) | (char32_t(p[1] & 0x3F) << 12) | (char32_t(p[2] & 0x3F) << 6)
            | (p[3] & 0x3F);
        if (cp < 0x10000 || cp > 0x10FFFF) {
            return invalidByte();
        }
        len = 4;
    } else {
        return invalidByte();
    }
    return {kindOf(cp), len, cp};
}

} // namespace Gateway::Tokenize
