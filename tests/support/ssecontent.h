#pragma once

#include <QByteArray>
#include <QList>

namespace TestSupport {

// Joins choices[0].delta.content (OpenAI chunks) or delta.text (Anthropic
// content_block_delta) over SSE data payloads; skips [DONE] and non-JSON payloads.
QByteArray joinedStreamContent(const QList<QByteArray> &dataLines);

// Tokens ("tok0 tok1 ...") the simulator generates for `count` completion tokens.
QByteArray expectedSimContent(int count);

} // namespace TestSupport
