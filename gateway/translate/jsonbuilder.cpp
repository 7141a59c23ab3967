#include "jsonbuilder.h"

#include "util/jsonwriter.h"

#include <algorithm>

namespace Gateway::Translate {

JsonBuilder::JsonBuilder(QByteArray &out)
    : m_out {out}
{
}

void JsonBuilder::beforeValue()
{
    if (m_afterKey) {
        m_afterKey = false;
        return;
    }
    if (m_depth > 0) {
        bool &first = m_first[static_cast<std::size_t>(std::min(m_depth, MAX_DEPTH) - 1)];
        if (!first) {
            m_out.append(',');
        }
        first = false;
    }
}

void JsonBuilder::push()
{
    // Past MAX_DEPTH the innermost slot is shared (commas could go wrong there); nothing
    // the translators write comes near it.
    Q_ASSERT(m_depth < MAX_DEPTH);
    ++m_depth;
    m_first[static_cast<std::size_t>(std::min(m_depth, MAX_DEPTH) - 1)] = true;
}

JsonBuilder &JsonBuilder::beginObject()
{
    beforeValue();
    m_out.append('{');
    push();
    return *this;
}

JsonBuilder &JsonBuilder::endObject()
{
    m_out.append('}');
    --m_depth;
    return *this;
}

JsonBuilder &JsonBuilder::beginArray()
{
    beforeValue();
    m_out.append('[');
    push();
    return *this;
}

JsonBuilder &JsonBuilder::endArray()
{
    m_out.append(']');
    --m_depth;
    return *this;
}

JsonBuilder &JsonBuilder::key(QByteArrayView name)
{
    beforeValue();
    Json::appendString(m_out, name);
    m_out.append(':');
    m_afterKey = true;
    return *this;
}

JsonBuilder &JsonBuilder::string(QByteArrayView text)
{
    beforeValue();
    Json::appendString(m_out, text);
    return *this;
}

JsonBuilder &JsonBuilder::string(std::string_view text)
{
    return string(QByteArrayView {text.data(), static_cast<qsizetype>(text.size())});
}

JsonBuilder &JsonBuilder::number(qint64 value)
{
    beforeValue();
    m_out.append(QByteArray::number(value));
    return *this;
}

JsonBuilder &JsonBuilder::boolean(bool value)
{
    beforeValue();
    m_out.append(value ? "true" : "false");
    return *this;
}

JsonBuilder &JsonBuilder::null()
{
    beforeValue();
    m_out.append("null");
    return *this;
}

JsonBuilder &JsonBuilder::raw(QByteArrayView json)
{
    beforeValue();
    m_out.append(json);
    return *this;
}

JsonBuilder &JsonBuilder::raw(std::string_view json)
{
    return raw(QByteArrayView {json.data(), static_cast<qsizetype>(json.size())});
}

} // namespace Gateway::Translate
