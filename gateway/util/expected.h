#pragma once

// A minimal expected<T, E>: GCC 12 has std::expected only in C++23 mode and Debian 12
// packages no alternative, so errors travel as values through this small type.

#include <utility>
#include <variant>

namespace Gateway {

template <typename E>
class Unexpected {
public:
    explicit Unexpected(E error) : m_error {std::move(error)} {}
    E &error() & { return m_error; }
    E &&error() && { return std::move(m_error); }

private:
    E m_error;
};

template <typename T, typename E>
class Expected {
public:
    Expected(T value) : m_storage {std::in_place_index<0>, std::move(value)} {}
    Expected(Unexpected<E> unexpected) : m_storage {std::in_place_index<1>, std::move(unexpected).error()} {}

    [[nodiscard]] bool hasValue() const { return m_storage.index() == 0; }
    explicit operator bool() const { return hasValue(); }

    T &value() & { return std::get<0>(m_storage); }
    const T &value() const & { return std::get<0>(m_storage); }
    T &&value() && { return std::get<0>(std::move(m_storage)); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    T &operator*() { return value(); }
    const T &operator*() const { return value(); }

    const E &error() const { return std::get<1>(m_storage); }

private:
    std::variant<T, E> m_storage;
};

} // namespace Gateway
