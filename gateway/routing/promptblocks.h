#pragma once

#include <QByteArrayView>

#include <cstdint>
#include <vector>

namespace Gateway::Routing {

// Cuts a rendered prompt into fixed-size character blocks and hashes them as a chain,
// hash(i) = H(block i, seed = hash(i-1)), with the model name in the first seed: two
// prompts share the first k hashes exactly when they share the first k blocks for the
// same model. This mirrors how inference engines key their paged KV cache (vLLM hashes
// blocks of 16 tokens with the parent block's hash), at ~4 characters per token, so the
// gateway can guess which server already holds a prompt's prefix without tokenizing.
// Only full blocks are hashed: engines cache only full blocks too.
//
// Text is appended in pieces (role, content, ...) without concatenating a copy; the
// hasher carries a partial block between pieces.
class PromptBlockHasher final {
public:
    static constexpr int DEFAULT_BLOCK_CHARS = 64; // 16 tokens x 4 characters
    static constexpr int DEFAULT_MAX_BLOCKS = 2048; // 128K characters of prompt; later blocks are not matched

    explicit PromptBlockHasher(QByteArrayView model, int blockChars = DEFAULT_BLOCK_CHARS,
                               int maxBlocks = DEFAULT_MAX_BLOCKS);

    void append(QByteArrayView text);
    // Moves the hashes of every full block out; the hasher is empty afterwards.
    std::vector<std::uint64_t> take();

    // One-shot helper for callers that already hold the whole prompt.
    static std::vector<std::uint64_t> hash(QByteArrayView model, QByteArrayView prompt,
                                           int blockChars = DEFAULT_BLOCK_CHARS,
                                           int maxBlocks = DEFAULT_MAX_BLOCKS);

private:
    void emitBlock(const char *data);

    std::vector<std::uint64_t> m_blocks;
    std::uint64_t m_chain = 0;
    int m_blockChars;
    int m_maxBlocks;
    int m_pendingSize = 0;
    char m_pending[256]; // partial block between append() calls (blockChars <= 256)
};

} // namespace Gateway::Routing
