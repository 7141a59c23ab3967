#include "tokenize/bundledranks.h"

#include "tokenize/tiktokenfile.h"

#include <QFile>

namespace Gateway::Tokenize {

Expected<std::shared_ptr<const RankTable>, QString> loadBundledRanks(EncodingId id)
{
    const QString path = QStringLiteral(":/tokenizers/") + encodingName(id) + QStringLiteral(".tiktoken");
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return Unexpected(QStringLiteral("cannot open bundled rank file %1: %2").arg(path, file.errorString()));
    }
    auto table = parseTiktokenFile(file.readAll());
    if (!table) {
        return Unexpected(QString(path + QStringLiteral(": ") + table.error()));
    }
    return table;
}

} // namespace Gateway::Tokenize
