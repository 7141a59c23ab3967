#pragma once

#include "util/expected.h"

#include <QByteArray>

#include <cstddef>
#include <utility>

namespace Gateway::Translate {

// Why a request cannot be translated: the client's mistake (a 400), naming the field.
struct TranslationError {
    QByteArray message; // "'messages[2].content[0].type' 'input_audio' has no Anthropic equivalent"
    QByteArray param;   // the offending field's path, OpenAI's error.param
};

// The refusal for the field at `path`: "'path' problem".
inline Unexpected<TranslationError> fieldError(const QByteArray &path, const QByteArray &problem)
{
    QByteArray message;
    message.reserve(path.size() + problem.size() + 3);
    message.append('\'').append(path).append("' ").append(problem);
    return Unexpected {TranslationError {std::move(message), path}};
}

// "path[index]", the path of an array element in messages and params.
inline QByteArray indexPath(const QByteArray &path, std::size_t index)
{
    QByteArray element = path;
    return element.append('[').append(QByteArray::number(static_cast<qulonglong>(index))).append(']');
}

} // namespace Gateway::Translate
