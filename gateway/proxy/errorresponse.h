#pragma once

#include "http/request.h"

#include <QByteArray>
#include <QByteArrayView>

namespace Gateway::Proxy {

// Which SDK family the client speaks, so errors arrive in the shape it parses.
enum class ErrorShape { OpenAi, Anthropic };

struct ErrorInfo {
    int status = 500;
    QByteArray message; // names the problem: field, route, backend
    QByteArray code;    // machine-readable, e.g. "model_not_found"
    QByteArray param;   // OpenAI error.param, optional
    // Further members of the error object, as JSON text starting with a comma (e.g.
    // `,"limit":"tpm"`); empty for most errors.
    QByteArray extraFields;
};

// OpenAI: {"error":{"message","type","param","code"}}
// Anthropic: {"type":"error","error":{"type","message"}}
QByteArray errorBody(ErrorShape shape, const ErrorInfo &error);

// The error "type" a client SDK maps to an exception class, from the status.
QByteArrayView openAiErrorType(int status);
QByteArrayView anthropicErrorType(int status);

// A terminal SSE event reporting a failure after a stream has started, so a client can
// tell a truncated answer from a complete one.
QByteArray streamErrorEvent(ErrorShape shape, const ErrorInfo &error);

} // namespace Gateway::Proxy
