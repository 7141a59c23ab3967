#pragma once

#include <QByteArray>

namespace Gateway::Translate {

// Why a request cannot be translated: the client's mistake (a 400), naming the field.
struct TranslationError {
    QByteArray message; // "'messages[2].content[0].type' 'input_audio' has no Anthropic equivalent"
    QByteArray param;   // the offending field's path, OpenAI's error.param
};

} // namespace Gateway::Translate
