#pragma once

#include <QByteArrayView>

#include <array>

namespace Gateway::Tokenize {

// Counts of what drives a BPE token count, taken in one pass over UTF-8 text. The
// estimator multiplies them by calibrated weights; see tokenestimator.h.
struct TextFeatures {
    enum Index {
        LatinWords,     // runs of Latin letters (each costs at least one token)
        LatinLetters,   // Latin letters (long and rare words cost more)
        OtherWords,     // runs of letters of other alphabetic scripts (Cyrillic, Arabic, ...)
        OtherLetters,   // their letters and combining marks
        CjkChars,       // Han, kana, Hangul, CJK punctuation and fullwidth forms
        DigitGroups,    // ceil(run / 3) per digit run: both encodings split digits by 3
        AsciiPunct,     // ASCII punctuation and symbols
        PunctRuns,      // runs of them (a run often merges into one token)
        OtherSymbols,   // other non-letters: emoji, symbols, invalid bytes (per code point)
        Newlines,       // line breaks
        SpaceRuns,      // runs of two or more spaces or tabs (indentation, alignment)
        Count
    };

    std::array<double, Count> values {};

    static TextFeatures of(QByteArrayView text);
};

} // namespace Gateway::Tokenize
