#include "span.h"

namespace Gateway::Tracing {

const AttributeValue *Span::find(QByteArrayView key) const
{
    for (const Attribute &attribute : attributes) {
        if (QByteArrayView {attribute.key} == key) {
            return &attribute.value;
        }
    }
    return nullptr;
}

} // namespace Gateway::Tracing
