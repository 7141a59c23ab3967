#include "messagetextscanner.h"

#include <simdjson.h>

#include <string>
#include <string_view>

namespace Gateway::Proxy {

namespace od = simdjson::ondemand;

struct MessageTextScanner::Impl {
    od::parser parser;
    std::string padded; // the body with simdjson's padding
    const char *base = nullptr;
    std::vector<MessageText> *out = nullptr;

    bool addString(od::value value)
    {
        std::string_view raw = value.raw_json_token();
        std::string_view text;
        if (value.get_string().get(text)) {
            return false;
        }
        while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) {
            raw.remove_suffix(1);
        }
        MessageText field;
        field.begin = raw.data() - base;
        field.end = field.begin + static_cast<qsizetype>(raw.size());
        field.text = QByteArray(text.data(), static_cast<qsizetype>(text.size()));
        out->push_back(std::move(field));
        return true;
    }

    // A string, or an array of strings and/or content parts whose "text" is taken.
    void addContent(od::value value)
    {
        od::json_type type;
        if (value.type().get(type)) {
            return;
        }
        if (type == od::json_type::string) {
            addString(value);
            return;
        }
        od::array parts;
        if (type != od::json_type::array || value.get_array().get(parts)) {
            return;
        }
        for (auto part : parts) {
            od::value element;
            if (part.get(element) || element.type().get(type)) {
                return;
            }
            if (type == od::json_type::string) {
                addString(element);
                continue;
            }
            od::object object;
            if (type != od::json_type::object || element.get_object().get(object)) {
                continue;
            }
            for (auto member : object) {
                std::string_view key;
                od::value memberValue;
                if (member.unescaped_key().get(key) || member.value().get(memberValue)) {
                    return;
                }
                if (key == "text") {
                    addString(memberValue);
                } else if (key == "content") {
                    // Anthropic tool_result blocks carry their own content.
                    addContent(memberValue);
                }
            }
        }
    }

    void addMessages(od::value value)
    {
        od::array messages;
        if (value.get_array().get(messages)) {
            return;
        }
        for (auto message : messages) {
            od::object object;
            if (message.get_object().get(object)) {
                continue;
            }
            for (auto member : object) {
                std::string_view key;
                od::value memberValue;
                if (member.unescaped_key().get(key) || member.value().get(memberValue)) {
                    return;
                }
                if (key == "content") {
                    addContent(memberValue);
                }
            }
        }
    }
};

MessageTextScanner::MessageTextScanner()
    : m_impl {std::make_unique<Impl>()}
{
}

MessageTextScanner::~MessageTextScanner() = default;

bool MessageTextScanner::scan(Runtime::Endpoint endpoint, const QByteArray &body, std::vector<MessageText> &out)
{
    using Runtime::Endpoint;
    out.clear();
    Impl &impl = *m_impl;
    impl.padded.reserve(static_cast<std::size_t>(body.size()) + simdjson::SIMDJSON_PADDING);
    impl.padded.assign(body.constData(), static_cast<std::size_t>(body.size()));
    const simdjson::padded_string_view input(impl.padded.data(), impl.padded.size(), impl.padded.capacity());
    impl.base = input.data();
    impl.out = &out;
    od::document document;
    od::object object;
    if (impl.parser.iterate(input).get(document) || document.get_object().get(object)) {
        return false;
    }
    for (auto field : object) {
        std::string_view key;
        od::value value;
        if (field.unescaped_key().get(key) || field.value().get(value)) {
            return false;
        }
        switch (endpoint) {
        case Endpoint::ChatCompletions:
            if (key == "messages") {
                impl.addMessages(value);
            }
            break;
        case Endpoint::Messages:
            if (key == "messages") {
                impl.addMessages(value);
            } else if (key == "system") {
                impl.addContent(value);
            }
            break;
        case Endpoint::Completions:
            if (key == "prompt") {
                impl.addContent(value);
            }
            break;
        case Endpoint::Embeddings:
            if (key == "input") {
                impl.addContent(value);
            }
            break;
        }
    }
    return true;
}

} // namespace Gateway::Proxy
