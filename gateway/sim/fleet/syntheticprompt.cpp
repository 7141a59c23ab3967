#include "syntheticprompt.h"

namespace Gateway::Sim::Fleet {

namespace {

std::uint64_t finalise(std::uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

constexpr std::uint64_t GOLDEN = 0x9e3779b97f4a7c15ULL;

} // namespace

std::uint64_t mixSeed(std::uint64_t a, std::uint64_t b, std::uint64_t c)
{
    return finalise(finalise(finalise(a + GOLDEN) ^ (b + 2 * GOLDEN)) ^ (c + 3 * GOLDEN));
}

void PromptRenderer::render(QByteArray &out, std::uint64_t seed, int tokens)
{
    if (tokens <= 0) {
        return;
    }
    const qsizetype start = out.size();
    out.resize(start + qsizetype {tokens} * TOKEN_CHARS);
    char *cursor = out.data() + start;
    for (int i = 0; i < tokens; ++i) {
        // Four letters from four 16-bit slices of one hash: a 26^4-word vocabulary.
        const std::uint64_t h = finalise(seed + GOLDEN * static_cast<std::uint64_t>(i + 1));
        for (int k = 0; k < TOKEN_CHARS; ++k) {
            const std::uint64_t slice = (h >> (16 * k)) & 0xffffU;
            *cursor++ = static_cast<char>('a' + static_cast<int>((slice * 26U) >> 16));
        }
    }
}

void PromptRenderer::append(QByteArray &out, const TextSpan &span)
{
    if (!span.shared) {
        render(out, span.seed, span.tokens);
        return;
    }
    const std::uint64_t key = mixSeed(span.seed, static_cast<std::uint64_t>(span.tokens));
    auto it = m_shared.find(key);
    if (it == m_shared.end()) {
        QByteArray text;
        render(text, span.seed, span.tokens);
        it = m_shared.emplace(key, std::move(text)).first;
    }
    out.append(it->second);
}

} // namespace Gateway::Sim::Fleet
