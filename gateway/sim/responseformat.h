#pragma once

#include "flavor.h"
#include "inferencerequest.h"

#include <QByteArray>
#include <QList>

// Bodies and SSE events in the exact shapes of the OpenAI and Anthropic APIs. The
// generated text is deterministic: token i is the word "tok<i>", words joined by
// single spaces, so tests can compare whole contents.
namespace Gateway::Sim::ResponseFormat {

// What one answer contains, fixed before the first byte is written.
struct Generation {
    Endpoint endpoint = Endpoint::ChatCompletions;
    QByteArray id;
    QByteArray model;
    qint64 created = 0;
    int promptTokens = 1;
    int completionTokens = 0;
    int firstToken = 0; // a continuation starts numbering after the prefix it was given
    bool stopped = false; // finished naturally ("stop"/"end_turn") rather than at the limit
    bool includeUsage = false;
    // Non-empty: the answer is one call of this tool (TOOL_CALL_TOKENS "tokens": the two
    // fragments of toolArguments()) instead of text.
    QByteArray toolName;
};

// A tool call's arguments, streamed as two fragments split after "tok0".
constexpr int TOOL_CALL_TOKENS = 2;
QByteArray toolArguments(); // {"query":"tok0 tok1"}
QByteArray toolCallId(const Generation &generation);

// Token i as streamed: "tok0", then " tok1", " tok2", ...
QByteArray tokenText(int index);
// The whole completion: "tok0 tok1 ... tok<count-1>".
QByteArray completionText(int count);

QByteArray completeBody(const Generation &generation);

// A stream is a fixed sequence of SSE events; the token events are consecutive.
int streamEventCount(const Generation &generation);
int firstTokenEvent(const Generation &generation);
QByteArray streamEvent(const Generation &generation, int index);

// Deterministic embeddings: a string input becomes a hashed bag of words (lower-cased
// letter and digit runs, each adding +-1 to one of EMBEDDING_DIMENSIONS components by its
// hash, then scaled to unit length), so prompts that share most words are close in
// cosine similarity and unrelated ones far apart; token-id inputs get a vector seeded by
// `inputHash`.
QByteArray embeddingsBody(const QByteArray &model, const QList<QByteArray> &texts, int inputCount, quint64 inputHash,
                          int promptTokens);
QByteArray modelsBody(Flavor flavor, const QList<QByteArray> &models);

// OpenAI ({"error":{...}}) or Anthropic ({"type":"error",...}) error shapes.
QByteArray errorBody(bool anthropic, int status, QByteArrayView message);

} // namespace Gateway::Sim::ResponseFormat
