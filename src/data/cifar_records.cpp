#include "gnas/data/cifar_records.h"

#include <algorithm>

#include "gnas/core/error.h"

namespace gnas::data {

const CifarFormat kCifar10Format{"CIFAR-10", 1, 0, 10};
const CifarFormat kCifar100Format{"CIFAR-100", 2, 1, 100};

std::int64_t cifar_record_count(const std::string& path, std::int64_t size, const CifarFormat& fmt) {
  GNAS_CHECK_AS(DataError, size >= 0, path, ": cannot read the file");
  GNAS_CHECK_AS(DataError, size > 0, path, ": the file is empty");
  const std::int64_t record = fmt.label_bytes + kCifarPixels;
  if (size % record != 0) {
    const CifarFormat& other = fmt.label_bytes == 1 ? kCifar100Format : kCifar10Format;
    const std::int64_t other_record = other.label_bytes + kCifarPixels;
    GNAS_CHECK_AS(DataError, size % other_record != 0, path, ": ", size, " bytes is not a whole number of ",
                  fmt.name, " records (", record, " bytes each) but is of ", other.name, " records (",
                  other_record, " bytes); this looks like a ", other.name, " file");
    throw DataError(detail::concat(path, ": ", size, " bytes is not a whole number of ", fmt.name, " records (",
                                   record, " bytes each); the file is truncated or corrupt"));
  }
  return size / record;
}

std::int64_t append_cifar_records(const std::string& path, const std::uint8_t* bytes, std::size_t size,
                                  const CifarFormat& fmt, std::vector<std::uint8_t>& images,
                                  std::vector<std::int64_t>& labels) {
  const std::int64_t n = cifar_record_count(path, static_cast<std::int64_t>(size), fmt);
  const std::size_t record = static_cast<std::size_t>(fmt.label_bytes + kCifarPixels);
  for (std::int64_t i = 0; i < n; ++i) {  // every label first: nothing is appended to a refused file
    const int label = bytes[static_cast<std::size_t>(i) * record + static_cast<std::size_t>(fmt.label_index)];
    GNAS_CHECK_AS(DataError, label < fmt.num_classes, path, ": record ", i, " has label ", label, ", but ", fmt.name,
                  " labels are in [0, ", fmt.num_classes - 1, "]",
                  fmt.num_classes == 10 ? " (is this a CIFAR-100 file?)" : "");
  }
  const std::size_t base = images.size();
  images.resize(base + static_cast<std::size_t>(n * kCifarPixels));
  labels.reserve(labels.size() + static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint8_t* r = bytes + static_cast<std::size_t>(i) * record;
    labels.push_back(r[fmt.label_index]);
    std::copy(r + fmt.label_bytes, r + record,
              images.begin() + static_cast<std::ptrdiff_t>(base + static_cast<std::size_t>(i * kCifarPixels)));
  }
  return n;
}

}  // namespace gnas::data
