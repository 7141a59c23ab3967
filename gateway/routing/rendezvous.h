#pragma once

#include <cstdint>

namespace Gateway::Routing {

// Rendezvous (highest random weight) hashing: the weight of backend `backendId` for
// `key`; the backend with the highest weight wins. Every gateway replica ranks backends
// alike for the same key, and removing a backend moves only the keys it won. SplitMix64
// finaliser of (key, backend): an independent uniform draw per pair.
inline std::uint64_t rendezvousWeight(std::uint64_t key, int backendId)
{
    std::uint64_t z = key ^ ((static_cast<std::uint64_t>(backendId) + 1) * 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

} // namespace Gateway::Routing
