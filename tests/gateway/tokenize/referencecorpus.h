#pragma once

// The test corpus and the token ids the reference tokenizer gave for it
// (data/README.md says how they were produced). Header-only: test code, shared by the
// tokenize test executables.

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>

#include <cstdint>
#include <vector>

namespace TokenizeTest {

struct ReferenceCase {
    QString name;
    QByteArray text;                        // UTF-8
    std::vector<std::uint32_t> cl100k;
    std::vector<std::uint32_t> o200k;
};

inline QString dataDir()
{
    return QStringLiteral(TOKENIZE_TEST_DATA_DIR);
}

inline std::vector<std::uint32_t> toIds(const QJsonValue &value)
{
    std::vector<std::uint32_t> ids;
    for (const QJsonValue &id : value.toArray()) {
        ids.push_back(std::uint32_t(id.toInteger()));
    }
    return ids;
}

// Corpus files first (name = file name), then the hand-written snippets ("snippets <n>")
// and the generated strings ("generated <n>").
inline std::vector<ReferenceCase> loadReferenceCases()
{
    QFile file(dataDir() + QStringLiteral("/expected.json"));
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    const QJsonObject root = QJsonDocument::fromJson(file.readAll()).object();
    std::vector<ReferenceCase> cases;
    const QJsonObject files = root.value(QStringLiteral("files")).toObject();
    for (auto it = files.begin(); it != files.end(); ++it) {
        QFile corpus(dataDir() + QStringLiteral("/corpus/") + it.key());
        if (!corpus.open(QIODevice::ReadOnly)) {
            return {};
        }
        const QJsonObject ids = it.value().toObject();
        cases.push_back({it.key(), corpus.readAll(), toIds(ids.value(QStringLiteral("cl100k_base"))),
                         toIds(ids.value(QStringLiteral("o200k_base")))});
    }
    for (const QString &group : {QStringLiteral("snippets"), QStringLiteral("generated")}) {
        const QJsonArray entries = root.value(group).toArray();
        for (qsizetype i = 0; i < entries.size(); ++i) {
            const QJsonObject s = entries.at(i).toObject();
            cases.push_back({group + QStringLiteral(" %1").arg(i), s.value(QStringLiteral("text")).toString().toUtf8(),
                             toIds(s.value(QStringLiteral("cl100k_base"))),
                             toIds(s.value(QStringLiteral("o200k_base")))});
        }
    }
    return cases;
}

} // namespace TokenizeTest
