#include "tokenize/tiktokenfile.h"

#include <charconv>

namespace Gateway::Tokenize {

Expected<std::shared_ptr<const RankTable>, QString> parseTiktokenFile(QByteArrayView text)
{
    QByteArray tokens;
    tokens.reserve(text.size() / 2);
    std::vector<std::uint32_t> offsets;
    offsets.reserve(std::size_t(text.count('\n')) + 2);
    offsets.push_back(0);

    qsizetype lineNo = 0;
    qsizetype pos = 0;
    while (pos < text.size()) {
        qsizetype eol = text.indexOf('\n', pos);
        if (eol < 0) {
            eol = text.size();
        }
        const QByteArrayView line = text.sliced(pos, eol - pos).trimmed();
        pos = eol + 1;
        ++lineNo;
        if (line.isEmpty()) {
            continue;
        }
        const qsizetype space = line.indexOf(' ');
        if (space <= 0) {
            return Unexpected(QStringLiteral("tiktoken file: line %1 has no rank").arg(lineNo));
        }
        std::uint32_t rank = 0;
        const QByteArrayView rankText = line.sliced(space + 1);
        const auto [end, ec] = std::from_chars(rankText.data(), rankText.data() + rankText.size(), rank);
        if (ec != std::errc() || end != rankText.data() + rankText.size()) {
            return Unexpected(QStringLiteral("tiktoken file: line %1 has a bad rank").arg(lineNo));
        }
        if (rank != offsets.size() - 1) {
            return Unexpected(QStringLiteral("tiktoken file: line %1 has rank %2, expected %3")
                                  .arg(lineNo)
                                  .arg(rank)
                                  .arg(offsets.size() - 1));
        }
        const auto decoded = QByteArray::fromBase64Encoding(line.first(space).toByteArray(),
                                                            QByteArray::AbortOnBase64DecodingErrors);
        if (!decoded) {
            return Unexpected(QStringLiteral("tiktoken file: line %1 has bad base64").arg(lineNo));
        }
        tokens.append(*decoded);
        offsets.push_back(std::uint32_t(tokens.size()));
    }
    return RankTable::create(std::move(tokens), std::move(offsets));
}

} // namespace Gateway::Tokenize
