// A CIFAR binary file's records (data/cifar_records.h). The first byte picks CIFAR-10 or CIFAR-100.
// Invariant: an accepted file gives whole records with labels in range; a refused one appends nothing.
#include <vector>

#include "fuzz_support.h"
#include "gnas/data/cifar_records.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto& fmt = data[0] % 2 ? gnas::data::kCifar100Format : gnas::data::kCifar10Format;
  std::vector<std::uint8_t> images(7, 0);  // something already there: appends must keep it
  std::vector<std::int64_t> labels(1, 3);
  try {
    const auto n = gnas::data::append_cifar_records("fuzz.bin", data + 1, size - 1, fmt, images, labels);
    if (images.size() != 7 + std::size_t(n * gnas::data::kCifarPixels) || labels.size() != 1 + std::size_t(n))
      gnas::fuzz::violated("records and labels disagree");
    for (std::size_t i = 1; i < labels.size(); ++i)
      if (labels[i] < 0 || labels[i] >= fmt.num_classes) gnas::fuzz::violated("a label out of range");
  } catch (const gnas::Error&) {
    if (images.size() != 7 || labels.size() != 1) gnas::fuzz::violated("a refused file appended records");
  }
  return 0;
}
