#pragma once

#include "workload.h"

#include <QByteArrayView>
#include <QString>

#include <cstdint>
#include <optional>

namespace Gateway::Sim::Fleet {

// Replay of a recorded request log (token counts only; no text is ever stored).
//
// CSV: a header line naming the columns, then one request per line; '#' starts a comment
// line. Columns (any order, the first five required):
//   arrival_ms     arrival time in milliseconds (need not be sorted; replay sorts, stably)
//   prompt_tokens  prompt length in tokens (>= 1)
//   output_tokens  tokens generated (>= 1)
//   prefix_group   shared-system-prompt group; empty or -1 = none
//   session        conversation id; empty = none
//   prefix_tokens  optional: length of the group's shared prefix for this row
// JSONL: one JSON object per line with the same keys (prefix_group and session may be
// absent or null; session may be a string or a number).
//
// How text is rebuilt from the counts:
// - Rows of one prefix_group start with the same system prompt. Its length is the row's
//   prefix_tokens when given, else the shortest prompt of the group minus one token (the
//   group is assumed to share as much as its shortest prompt allows; give prefix_tokens
//   when it is known).
// - A row continues its session when its prompt is at least as long as the session's
//   previous prompt plus that answer: it then starts with exactly that text (so the
//   servers can reuse the conversation's KV), followed by fresh tokens. Otherwise it is
//   the group prefix (if any) plus fresh tokens.
// - Fresh tokens are seeded by the replay seed and the row, so a replay is deterministic.
enum class RequestLogFormat : std::uint8_t { Csv, JsonLines };

struct RequestLogResult {
    std::optional<Workload> workload;
    QString error; // "line N: ..." when workload is empty
};

// `speedup` divides every arrival time (2 = the same requests in half the time).
RequestLogResult parseRequestLog(QByteArrayView text, RequestLogFormat format, std::uint64_t seed, double speedup = 1.0);
// The format follows the file name: ".jsonl"/".ndjson" = JSON lines, anything else CSV.
RequestLogResult loadRequestLog(const QString &path, std::uint64_t seed, double speedup = 1.0);

} // namespace Gateway::Sim::Fleet
