#include "bodyrewriter.h"

#include "util/jsonwriter.h"

namespace Gateway::Proxy {

namespace {

struct Edit {
    qsizetype begin = -1;
    qsizetype end = -1;
    QByteArray replacement;
};

} // namespace

QByteArray rewriteBody(const QByteArray &original, const InspectedRequest &inspected, const QByteArray &upstreamModel,
                       bool requestUsage)
{
    Edit modelEdit;
    if (inspected.modelBegin >= 0 && upstreamModel != inspected.model) {
        modelEdit = {inspected.modelBegin, inspected.modelEnd, Json::quoted(upstreamModel)};
    }
    Edit usageEdit;
    if (requestUsage && !inspected.includeUsage) {
        if (!inspected.hasStreamOptions && inspected.objectBegin >= 0) {
            // Inserted as the first member: valid whether or not other members follow.
            usageEdit = {inspected.objectBegin + 1, inspected.objectBegin + 1,
                         QByteArrayLiteral("\"stream_options\":{\"include_usage\":true},")};
        } else if (inspected.hasStreamOptions && inspected.streamOptionsEnd > inspected.streamOptionsBegin) {
            QByteArray options = "{\"include_usage\":true";
            if (!inspected.streamOptionsScalars.isEmpty()) {
                options += ',' + inspected.streamOptionsScalars;
            }
            options += '}';
            usageEdit = {inspected.streamOptionsBegin, inspected.streamOptionsEnd, options};
        }
    }
    if (modelEdit.begin < 0 && usageEdit.begin < 0) {
        return original; // implicitly shared: no copy
    }
    const Edit *first = &modelEdit;
    const Edit *second = &usageEdit;
    if (first->begin < 0 || (second->begin >= 0 && second->begin < first->begin)) {
        std::swap(first, second);
    }
    QByteArray body;
    body.reserve(original.size() + first->replacement.size() + second->replacement.size());
    qsizetype cursor = 0;
    for (const Edit *edit : {first, second}) {
        if (edit->begin < 0) {
            continue;
        }
        body.append(original.constData() + cursor, edit->begin - cursor);
        body.append(edit->replacement);
        cursor = edit->end;
    }
    body.append(original.constData() + cursor, original.size() - cursor);
    return body;
}

} // namespace Gateway::Proxy
