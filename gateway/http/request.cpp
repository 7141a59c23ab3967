#include "request.h"

namespace Gateway::Http {

QByteArray Request::header(QByteArrayView lowerName) const
{
    for (const auto &header : headers) {
        if (header.name == lowerName) {
            return header.value;
        }
    }
    return {};
}

} // namespace Gateway::Http
