#pragma once
/// The records of the CIFAR binary formats, as bytes: what data/cifar.cpp reads from each file
/// before it makes tensors. Plain C++, no torch, so that the fuzz harness and the sanitizer build
/// reach it (tests/fuzz/cifar_fuzz.cpp).
/// CIFAR-10: records of 1 label byte + 3072 pixels; CIFAR-100: coarse + fine label + 3072 pixels.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gnas::data {

struct CifarFormat {
  const char* name;
  int label_bytes;   ///< bytes before the pixels
  int label_index;   ///< which of them is the label gnas trains on
  int num_classes;
};
extern const CifarFormat kCifar10Format;
extern const CifarFormat kCifar100Format;
constexpr std::int64_t kCifarPixels = 3 * 32 * 32;

/// Checks that a file of `size` bytes holds whole records of `fmt`; a DataError naming `path` says
/// what it is otherwise (empty, truncated, or a file of the other format). Returns the record count.
std::int64_t cifar_record_count(const std::string& path, std::int64_t size, const CifarFormat& fmt);

/// Appends the records of `bytes` (the whole of file `path`) to `images` (3072 bytes each, CHW) and
/// `labels`. A DataError naming the path and the record when a label is out of range; on an error
/// nothing is appended. Returns the number of records.
std::int64_t append_cifar_records(const std::string& path, const std::uint8_t* bytes, std::size_t size,
                                  const CifarFormat& fmt, std::vector<std::uint8_t>& images,
                                  std::vector<std::int64_t>& labels);

}  // namespace gnas::data
