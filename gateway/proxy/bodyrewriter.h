#pragma once

#include "inspectedrequest.h"

#include <QByteArray>

namespace Gateway::Proxy {

// Builds the upstream body from the client's original bytes with only targeted edits:
// the model name the target expects and, when asked, stream_options.include_usage so
// the gateway learns a stream's token usage. Everything else is copied verbatim.
QByteArray rewriteBody(const QByteArray &original, const InspectedRequest &inspected, const QByteArray &upstreamModel,
                       bool requestUsage);

} // namespace Gateway::Proxy
