#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <simdjson.h>

#include <string_view>

// Small accessors over simdjson's DOM API for the translators. Translation needs random
// access (system prompts anywhere in the list, tool results regrouped, usage read after
// the content), which On-Demand's single forward pass does not give; the DOM parse is
// still one SIMD pass over the bytes, into a parser reused per thread.
namespace Gateway::Translate::Dom {

using Element = simdjson::dom::element;
using Object = simdjson::dom::object;
using Array = simdjson::dom::array;

// Parses `json` with this thread's scratch parser. The element is valid until the next
// parse() on the same thread: translate, then let go.
bool parse(QByteArrayView json, Element &out);
// For a JSON text embedded in a document being read (tool-call arguments): a second
// scratch parser, so the outer document stays valid.
bool parseEmbedded(QByteArrayView json, Element &out);

inline QByteArrayView view(std::string_view text)
{
    return {text.data(), static_cast<qsizetype>(text.size())};
}

inline QByteArray bytes(std::string_view text)
{
    return {text.data(), static_cast<qsizetype>(text.size())};
}

// The member as a string, or `fallback` when it is missing or not a string.
std::string_view string(Object object, std::string_view key, std::string_view fallback = {});
// The member, or false when it is missing (or JSON null).
bool member(Object object, std::string_view key, Element &out);
bool memberObject(Object object, std::string_view key, Object &out);
bool memberArray(Object object, std::string_view key, Array &out);
// An integer member (a whole double too), or `fallback`.
qint64 integer(Object object, std::string_view key, qint64 fallback = -1);

// The element serialised back to compact JSON.
QByteArray json(Element element);

} // namespace Gateway::Translate::Dom
