#pragma once

#include <QtGlobal>

#include <cstdint>

namespace Gateway::Tokenize {

// What the split regexes of cl100k_base and o200k_base ask about one code point. The two
// patterns use \p{L} (letters), \p{N} (numbers), \s (Unicode White_Space), [\r\n], and
// o200k also splits letters into "upper-ish" [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and
// "lower-ish" [\p{Ll}\p{Lm}\p{Lo}\p{M}] classes, so Lm/Lo and marks belong to both.
enum class CharKind : std::uint8_t {
    Upper,       // Lu, Lt
    Lower,       // Ll
    OtherLetter, // Lm, Lo: letters that are both upper-ish and lower-ish for o200k
    Mark,        // Mn, Mc, Me: not \p{L}, but both upper-ish and lower-ish for o200k
    Number,      // Nd, Nl, No
    Space,       // \s except \r and \n
    Newline,     // \r or \n
    Other,       // everything else, including bytes that are not valid UTF-8
};

struct CharInfo {
    CharKind kind;
    std::uint8_t length; // bytes, 1..4; an invalid byte is one "character" of kind Other
    char32_t codePoint;  // U+FFFD for an invalid byte
};

// Non-ASCII classification through QChar's Unicode tables (charclass.cpp).
CharInfo classifyNonAscii(const unsigned char *p, const unsigned char *end);

// Kinds of the 128 ASCII bytes.
extern const CharKind kAsciiKinds[128];

// The scanners call this once or twice per byte, so it is inline: ASCII is a table lookup
// and only other bytes take the decoding call. `p < end` is required.
inline CharInfo charAt(const unsigned char *p, const unsigned char *end)
{
    if (*p < 0x80) {
        return {kAsciiKinds[*p], 1, *p};
    }
    return classifyNonAscii(p, end);
}

inline bool isLetter(CharKind k)
{
    return k == CharKind::Upper || k == CharKind::Lower || k == CharKind::OtherLetter;
}

inline bool isWhitespace(CharKind k)
{
    return k == CharKind::Space || k == CharKind::Newline;
}

// [^\s\p{L}\p{N}]: the "punctuation" of both patterns (marks included).
inline bool isPunct(CharKind k)
{
    return k == CharKind::Other || k == CharKind::Mark;
}

// [^\r\n\p{L}\p{N}]: the optional one-character prefix of a word.
inline bool isWordPrefix(CharKind k)
{
    return k == CharKind::Space || k == CharKind::Mark || k == CharKind::Other;
}

} // namespace Gateway::Tokenize
