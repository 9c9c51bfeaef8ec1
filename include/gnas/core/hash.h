#pragma once
/// 64-bit FNV-1a: a stable, platform-independent hash for checksums and cross-rank comparisons
/// (not for security).
#include <cstddef>
#include <cstdint>
#include <string>

namespace gnas {

inline std::uint64_t fnv1a64(const void* data, std::size_t size, std::uint64_t h = 0xcbf29ce484222325ULL) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}
inline std::uint64_t fnv1a64(const std::string& s) { return fnv1a64(s.data(), s.size()); }

}  // namespace gnas
