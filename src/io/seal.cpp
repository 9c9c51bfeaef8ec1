#include "gnas/io/seal.h"

#include <cstdint>
#include <cstring>

#include "gnas/core/error.h"
#include "gnas/core/hash.h"

namespace gnas::io {
namespace {
constexpr char kSealMagic[8] = {'G', 'N', 'A', 'S', 'S', 'U', 'M', '1'};
static_assert(kSealTrailer == sizeof kSealMagic + 2 * sizeof(std::uint64_t), "the trailer's layout");
}  // namespace

std::string seal_bytes(std::string payload) {
  const std::uint64_t size = payload.size(), sum = fnv1a64(payload);
  payload.append(kSealMagic, sizeof kSealMagic);
  payload.append(reinterpret_cast<const char*>(&size), sizeof size);
  payload.append(reinterpret_cast<const char*>(&sum), sizeof sum);
  return payload;
}

std::size_t sealed_payload_size(const std::string& bytes, const std::string& path) {
  GNAS_CHECK_AS(IoError,
                bytes.size() >= kSealTrailer &&
                    std::memcmp(bytes.data() + bytes.size() - kSealTrailer, kSealMagic, sizeof kSealMagic) == 0,
                path, ": not a sealed gnas file (truncated, or written by a gnas older than checkpoint format 2)");
  std::uint64_t size = 0, sum = 0;
  std::memcpy(&size, bytes.data() + bytes.size() - 16, 8);
  std::memcpy(&sum, bytes.data() + bytes.size() - 8, 8);
  GNAS_CHECK_AS(IoError, size == bytes.size() - kSealTrailer, path, ": truncated or padded (",
                bytes.size() - kSealTrailer, " payload bytes, the trailer says ", size, ")");
  GNAS_CHECK_AS(IoError, fnv1a64(bytes.data(), std::size_t(size)) == sum, path,
                ": checksum mismatch, the file is damaged");
  return std::size_t(size);
}

}  // namespace gnas::io
