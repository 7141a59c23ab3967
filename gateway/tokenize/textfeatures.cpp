#include "tokenize/textfeatures.h"

#include "tokenize/charclass.h"

namespace Gateway::Tokenize {

namespace {

enum class Script { None, Latin, Other, Cjk };

bool isCjk(char32_t c)
{
    return (c >= 0x1100 && c <= 0x11FF)      // Hangul Jamo
        || (c >= 0x2E80 && c <= 0x9FFF)      // CJK radicals, punctuation, kana, Han
        || (c >= 0xAC00 && c <= 0xD7AF)      // Hangul syllables
        || (c >= 0xF900 && c <= 0xFAFF)      // CJK compatibility ideographs
        || (c >= 0xFF00 && c <= 0xFFEF)      // half- and fullwidth forms
        || (c >= 0x20000 && c <= 0x3FFFF);   // Han extensions
}

bool isLatin(char32_t c)
{
    return c < 0x250 || (c >= 0x1E00 && c <= 0x1EFF);
}

} // namespace

TextFeatures TextFeatures::of(QByteArrayView text)
{
    TextFeatures f;
    auto &v = f.values;
    const auto *data = reinterpret_cast<const unsigned char *>(text.data());
    const auto *end = data + text.size();
    Script word = Script::None; // script of the letter run we are in
    int digits = 0;             // length of the digit run we are in
    int blanks = 0;             // length of the space/tab run we are in
    bool inPunct = false;       // previous character was ASCII punctuation

    const auto endDigits = [&] {
        v[DigitGroups] += (digits + 2) / 3;
        digits = 0;
    };
    for (const unsigned char *p = data; p < end;) {
        const CharInfo c = charAt(p, end);
        p += c.length;
        const char32_t cp = c.codePoint;

        if (c.kind == CharKind::Number) {
            ++digits;
        } else if (digits > 0) {
            endDigits();
        }
        if (cp == ' ' || cp == '\t') {
            ++blanks;
        } else {
            v[SpaceRuns] += blanks >= 2 ? 1 : 0;
            blanks = 0;
        }

        Script script = Script::None;
        if (isCjk(cp) && c.kind != CharKind::Space) {
            v[CjkChars] += 1;
        } else if (isLetter(c.kind) || (c.kind == CharKind::Mark && word == Script::Other)) {
            script = isLatin(cp) ? Script::Latin : Script::Other;
            v[script == Script::Latin ? LatinLetters : OtherLetters] += 1;
            if (script != word) {
                v[script == Script::Latin ? LatinWords : OtherWords] += 1;
            }
        } else if (c.kind == CharKind::Mark && word == Script::Latin) {
            script = Script::Latin; // a combining accent continues a Latin word
        } else if (c.kind == CharKind::Newline) {
            v[Newlines] += cp == '\n' ? 1 : 0;
        } else if (c.kind == CharKind::Other || c.kind == CharKind::Mark) {
            v[cp < 0x80 ? AsciiPunct : OtherSymbols] += 1;
        }
        const bool punct = cp < 0x80 && c.kind == CharKind::Other;
        v[PunctRuns] += punct && !inPunct ? 1 : 0;
        inPunct = punct;
        word = script;
    }
    if (digits > 0) {
        endDigits();
    }
    v[SpaceRuns] += blanks >= 2 ? 1 : 0;
    return f;
}

} // namespace Gateway::Tokenize
