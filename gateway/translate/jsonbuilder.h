#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <array>
#include <string_view>

namespace Gateway::Translate {

// Writes JSON straight into a byte array: the caller says what comes next (object,
// member, value) and the builder places the commas, so translation code reads like the
// document it produces and never builds a DOM for its output.
class JsonBuilder final {
public:
    explicit JsonBuilder(QByteArray &out);

    JsonBuilder &beginObject();
    JsonBuilder &endObject();
    JsonBuilder &beginArray();
    JsonBuilder &endArray();
    // A member name; the next call writes its value.
    JsonBuilder &key(QByteArrayView name);
    JsonBuilder &string(QByteArrayView text);
    JsonBuilder &string(std::string_view text);
    JsonBuilder &string(const char *text) { return string(QByteArrayView {text}); }
    JsonBuilder &string(const QByteArray &text) { return string(QByteArrayView {text}); }
    JsonBuilder &number(qint64 value);
    JsonBuilder &boolean(bool value);
    JsonBuilder &null();
    // Already serialised JSON (a value copied from the input), written as it is.
    JsonBuilder &raw(QByteArrayView json);
    JsonBuilder &raw(std::string_view json);
    JsonBuilder &raw(const char *json) { return raw(QByteArrayView {json}); }
    JsonBuilder &raw(const QByteArray &json) { return raw(QByteArrayView {json}); }

    // Shorthands for one member.
    JsonBuilder &member(QByteArrayView name, QByteArrayView text) { return key(name).string(text); }
    JsonBuilder &member(QByteArrayView name, std::string_view text) { return key(name).string(text); }
    JsonBuilder &member(QByteArrayView name, const char *text) { return key(name).string(text); }
    JsonBuilder &member(QByteArrayView name, const QByteArray &text) { return key(name).string(QByteArrayView {text}); }

private:
    void beforeValue();
    void push();

    // Deeper than anything the translators write; a fixed stack keeps builders (several
    // per stream event) free of allocations.
    static constexpr int MAX_DEPTH = 32;

    QByteArray &m_out;
    // One entry per open container: true until its first element was written.
    std::array<bool, MAX_DEPTH> m_first {};
    int m_depth = 0;
    bool m_afterKey = false;
};

} // namespace Gateway::Translate
