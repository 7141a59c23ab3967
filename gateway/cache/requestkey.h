#pragma once

#include "runtime/endpoint.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

namespace Gateway::Cache {

// What the cache knows a request by. Both digests cover the endpoint, the serving route,
// the scope (whose answers may be shared), the stream flags and the canonical body:
// the JSON with object keys sorted, insignificant whitespace gone, numbers in one
// spelling, and the fields that do not change the answer left out (`stream`,
// `stream_options`, `user`, `metadata`, `store`; stream-ness and include_usage are
// keyed separately because they change the bytes the client receives). docs/CACHE.md.
struct RequestKey {
    bool valid = false;   // the body is a JSON object
    QByteArray exact;     // SHA-256: the exact cache's key
    // SHA-256 of the same with the last user message's text blanked: a semantic match
    // must agree on everything else (system prompt, earlier turns, parameters).
    QByteArray context;
    QString lastUserText; // what the semantic cache embeds; empty = nothing to embed
    bool stream = false;
    bool includeUsage = false; // stream_options.include_usage
};

// `scope` is the sharing scope's value ("key:<name>", "team:<name>", "*").
RequestKey buildRequestKey(Runtime::Endpoint endpoint, QByteArrayView body, QByteArrayView route, QByteArrayView scope);

// The canonical form the digests are computed from (tests and docs).
QByteArray canonicalBody(QByteArrayView body);

} // namespace Gateway::Cache
