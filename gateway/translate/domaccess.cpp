#include "domaccess.h"

namespace Gateway::Translate::Dom {

bool parse(QByteArrayView json, Element &out)
{
    // Nothing is no document; an empty view's data() may also be null, which simdjson
    // would copy from (the translate fuzzer's first input).
    if (json.isEmpty()) {
        return false;
    }
    // One per thread: proxy workers translate one document at a time, and the parser's
    // buffers are reused instead of allocated per request or per stream event.
    thread_local simdjson::dom::parser parser;
    return parser.parse(json.data(), static_cast<std::size_t>(json.size())).get(out) == simdjson::SUCCESS;
}

bool parseEmbedded(QByteArrayView json, Element &out)
{
    if (json.isEmpty()) {
        return false;
    }
    thread_local simdjson::dom::parser parser;
    return parser.parse(json.data(), static_cast<std::size_t>(json.size())).get(out) == simdjson::SUCCESS;
}

std::string_view string(Object object, std::string_view key, std::string_view fallback)
{
    std::string_view value;
    if (object[key].get_string().get(value) != simdjson::SUCCESS) {
        return fallback;
    }
    return value;
}

bool member(Object object, std::string_view key, Element &out)
{
    if (object[key].get(out) != simdjson::SUCCESS) {
        return false;
    }
    return !out.is_null();
}

bool memberObject(Object object, std::string_view key, Object &out)
{
    return object[key].get_object().get(out) == simdjson::SUCCESS;
}

bool memberArray(Object object, std::string_view key, Array &out)
{
    return object[key].get_array().get(out) == simdjson::SUCCESS;
}

qint64 integer(Object object, std::string_view key, qint64 fallback)
{
    Element value;
    if (!member(object, key, value)) {
        return fallback;
    }
    int64_t whole = 0;
    if (value.get_int64().get(whole) == simdjson::SUCCESS) {
        return whole;
    }
    double real = 0;
    if (value.get_double().get(real) == simdjson::SUCCESS && real >= -9.0e15 && real <= 9.0e15) {
        return static_cast<qint64>(real);
    }
    return fallback;
}

QByteArray json(Element element)
{
    const std::string text = simdjson::minify(element);
    return {text.data(), static_cast<qsizetype>(text.size())};
}

} // namespace Gateway::Translate::Dom
