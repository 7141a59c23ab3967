#include "jsonwriter.h"

namespace Gateway::Json {

void appendString(QByteArray &out, QByteArrayView text)
{
    static constexpr char HEX[] = "0123456789abcdef";
    out.reserve(out.size() + text.size() + 2);
    out.append('"');
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        default:
            if (byte < 0x20) {
                out.append("\\u00");
                out.append(HEX[byte >> 4]);
                out.append(HEX[byte & 0xF]);
            } else {
                out.append(c);
            }
        }
    }
    out.append('"');
}

QByteArray quoted(QByteArrayView text)
{
    QByteArray out;
    appendString(out, text);
    return out;
}

} // namespace Gateway::Json
