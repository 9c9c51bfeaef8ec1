#pragma once
/// The seal of gnas's checkpoint and model files: a trailer of 24 bytes after the archive that
/// libtorch writes ("GNASSUM1", the payload's size and its FNV-1a 64 checksum, little-endian), so
/// that a truncated, padded or damaged file is refused before libtorch unpickles a byte of it.
/// Plain C++, no torch (tests/fuzz/seal_fuzz.cpp).
#include <cstddef>
#include <string>

namespace gnas::io {

constexpr std::size_t kSealTrailer = 24;

/// `payload` with its trailer appended.
std::string seal_bytes(std::string payload);

/// The payload's size when `bytes` (the whole of file `path`) are sealed and intact; an IoError
/// naming the path and what is wrong (no seal, a size or checksum that does not match) otherwise.
std::size_t sealed_payload_size(const std::string& bytes, const std::string& path);

}  // namespace gnas::io
