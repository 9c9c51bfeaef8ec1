// Readers of the official CIFAR-10 and CIFAR-100 binary formats.
// CIFAR-10:  data_batch_{1..5}.bin, test_batch.bin, batches.meta.txt; records of 1 label + 3072 pixels.
// CIFAR-100: train.bin, test.bin, fine_label_names.txt; records of coarse + fine label + 3072 pixels.
#include <filesystem>

#include <fstream>
#include <sstream>

#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/data/dataset.h"
#include "gnas/io/files.h"
#include <torch/torch.h>

namespace gnas::data {
namespace {

constexpr int64_t kPixels = 3 * 32 * 32;
constexpr int64_t kOfficialTestRecords = 10000;
constexpr int64_t kCifar10BatchRecords = 10000;   // each data_batch_N.bin
constexpr int64_t kCifar100TrainRecords = 50000;  // train.bin

struct Format {
  const char* name;
  int label_bytes;   // bytes before the pixels
  int label_index;   // which of them is the label we train on
  int num_classes;
};
const Format kCifar10{"CIFAR-10", 1, 0, 10};
const Format kCifar100{"CIFAR-100", 2, 1, 100};

int64_t file_size(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? -1 : static_cast<int64_t>(size);
}

/// Reads one binary file of `fmt` records into images and labels (appended). A file with fewer
/// than `official` records (a copy cut at a record boundary) is read with a warning.
void read_records(const std::string& path, const Format& fmt, std::vector<uint8_t>& images,
                  std::vector<int64_t>& labels, int64_t official, const char* consequence) {
  const int64_t size = file_size(path);
  GNAS_CHECK_AS(DataError, size >= 0, path, ": cannot read the file");
  GNAS_CHECK_AS(DataError, size > 0, path, ": the file is empty");
  const int64_t record = fmt.label_bytes + kPixels;
  if (size % record != 0) {
    const Format& other = fmt.label_bytes == 1 ? kCifar100 : kCifar10;
    const int64_t other_record = other.label_bytes + kPixels;
    GNAS_CHECK_AS(DataError, size % other_record != 0, path, ": ", size, " bytes is not a whole number of ",
                  fmt.name, " records (", record, " bytes each) but is of ", other.name, " records (",
                  other_record, " bytes); this looks like a ", other.name, " file");
    throw DataError(detail::concat(path, ": ", size, " bytes is not a whole number of ", fmt.name, " records (",
                                   record, " bytes each); the file is truncated or corrupt"));
  }
  std::ifstream in(path, std::ios::binary);
  GNAS_CHECK_AS(DataError, in.good(), path, ": cannot open the file");
  std::vector<uint8_t> buf(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(buf.data()), size);
  GNAS_CHECK_AS(DataError, in.gcount() == size, path, ": short read");
  const int64_t n = size / record;
  if (n < official)
    GNAS_LOG(WARN) << path << ": " << n << " records, fewer than the official " << official
                   << " (a truncated copy?); " << consequence;
  const std::size_t base = images.size();
  images.resize(base + static_cast<std::size_t>(n * kPixels));
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* r = &buf[static_cast<std::size_t>(i * record)];
    const int label = r[fmt.label_index];
    GNAS_CHECK_AS(DataError, label < fmt.num_classes, path, ": record ", i, " has label ", label,
                  ", but ", fmt.name, " labels are in [0, ", fmt.num_classes - 1, "]",
                  fmt.num_classes == 10 ? " (is this a CIFAR-100 file?)" : "");
    labels.push_back(label);
    std::copy(r + fmt.label_bytes, r + record, images.begin() + static_cast<std::ptrdiff_t>(base + i * kPixels));
  }
}

Split to_split(std::vector<uint8_t>& images, std::vector<int64_t>& labels, int64_t begin, int64_t end) {
  Split s;
  const int64_t n = end - begin;
  s.images = torch::from_blob(images.data() + begin * kPixels, {n, 3, 32, 32}, torch::kUInt8).clone();
  s.labels = torch::from_blob(labels.data() + begin, {n}, torch::kInt64).clone();
  return s;
}

std::vector<std::string> read_names(const std::string& path, int expected) {
  std::vector<std::string> names;
  std::ifstream in(path);
  std::string line;
  while (in && std::getline(in, line))
    if (!line.empty()) names.push_back(line);
  if (static_cast<int>(names.size()) != expected) {
    GNAS_LOG(WARN) << path << ": expected " << expected << " class names, found " << names.size()
                   << "; using class indices";
    names.clear();
    for (int i = 0; i < expected; ++i) names.push_back(std::to_string(i));
  }
  return names;
}

}  // namespace

Dataset load_cifar(const std::string& dir, int val_size, int train_limit, bool need_test) {
  GNAS_CHECK_AS(DataError, io::is_directory(dir), "--data '", dir, "': no such directory");
  Dataset d;
  std::vector<uint8_t> train_images, test_images;
  std::vector<int64_t> train_labels, test_labels;
  std::string test_file;
  Format fmt = kCifar10;
  if (io::path_exists(dir + "/train.bin")) {
    fmt = kCifar100;
    d.name = "cifar100";
    read_records(dir + "/train.bin", fmt, train_images, train_labels, kCifar100TrainRecords,
                 "training on the records present");
    test_file = dir + "/test.bin";
    d.class_names = read_names(dir + "/fine_label_names.txt", 100);
  } else {
    d.name = "cifar10";
    std::vector<std::string> missing;
    for (int b = 1; b <= 5; ++b) {
      const std::string path = dir + "/data_batch_" + std::to_string(b) + ".bin";
      if (io::path_exists(path))
        read_records(path, fmt, train_images, train_labels, kCifar10BatchRecords, "training on the records present");
      else missing.push_back("data_batch_" + std::to_string(b) + ".bin");
    }
    GNAS_CHECK_AS(DataError, missing.size() < 5, "--data '", dir,
                  "': no CIFAR-10 (data_batch_1..5.bin) or CIFAR-100 (train.bin) training files found");
    if (!missing.empty()) {
      std::ostringstream m;
      for (auto& f : missing) m << " " << f;
      GNAS_LOG(WARN) << dir << ": missing" << m.str() << "; training on the " << train_labels.size()
                     << " images of the batches present";
    }
    test_file = dir + "/test_batch.bin";
    d.class_names = read_names(dir + "/batches.meta.txt", 10);
  }
  d.num_classes = fmt.num_classes;
  if (need_test) {  // a search never reads the test split
    GNAS_CHECK_AS(DataError, io::path_exists(test_file), test_file, ": missing test file");
    read_records(test_file, fmt, test_images, test_labels, kOfficialTestRecords,
                 "test accuracy is measured on these only");
  }

  int64_t n = static_cast<int64_t>(train_labels.size());
  if (train_limit > 0) n = std::min<int64_t>(n, train_limit);
  GNAS_CHECK_AS(ConfigError, val_size < n, "--data.val_size ", val_size, " must be smaller than the ", n,
                " training images");
  d.train = to_split(train_images, train_labels, 0, n - val_size);
  d.val = to_split(train_images, train_labels, n - val_size, n);
  if (need_test) d.test = to_split(test_images, test_labels, 0, static_cast<int64_t>(test_labels.size()));
  return d;
}

}  // namespace gnas::data
