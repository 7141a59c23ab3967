#include "tokenize/cl100ksplitter.h"

#include "tokenize/charclass.h"
#include "tokenize/splitrules.h"

namespace Gateway::Tokenize {

namespace {

qsizetype letterRunEnd(const unsigned char *data, qsizetype size, qsizetype pos)
{
    while (pos < size) {
        const CharInfo c = charAt(data + pos, data + size);
        if (!isLetter(c.kind)) {
            break;
        }
        pos += c.length;
    }
    return pos;
}

} // namespace

qsizetype cl100kPieceEnd(QByteArrayView text, qsizetype start)
{
    const auto *data = reinterpret_cast<const unsigned char *>(text.data());
    const qsizetype size = text.size();
    const CharInfo c = charAt(data + start, data + size);

    if (const qsizetype n = contractionLength(data, size, start); n > 0) {
        return start + n;
    }
    if (isLetter(c.kind)) {
        return letterRunEnd(data, size, start + c.length);
    }
    const qsizetype next = start + c.length;
    const bool nextIsLetter = next < size && isLetter(charAt(data + next, data + size).kind);
    if (isWordPrefix(c.kind) && nextIsLetter) {
        return letterRunEnd(data, size, next);
    }
    if (c.kind == CharKind::Number) {
        return numberRunEnd(data, size, start);
    }
    if (isPunct(c.kind)) {
        return punctRunEnd(data, size, start, false);
    }
    // " ?[^\s\p{L}\p{N}]+": an ASCII space may lead a punctuation run.
    if (c.codePoint == ' ' && next < size && isPunct(charAt(data + next, data + size).kind)) {
        return punctRunEnd(data, size, next, false);
    }
    return whitespaceEnd(data, size, start);
}

} // namespace Gateway::Tokenize
