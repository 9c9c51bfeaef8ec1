// Readers of the official CIFAR-10 and CIFAR-100 binary formats (the records: data/cifar_records.h).
// CIFAR-10:  data_batch_{1..5}.bin, test_batch.bin, batches.meta.txt.
// CIFAR-100: train.bin, test.bin, fine_label_names.txt.
#include <filesystem>

#include <fstream>
#include <sstream>

#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/data/cifar_records.h"
#include "gnas/data/dataset.h"
#include "gnas/io/files.h"
#include <torch/torch.h>

namespace gnas::data {
namespace {

constexpr int64_t kPixels = kCifarPixels;
constexpr int64_t kOfficialTestRecords = 10000;
constexpr int64_t kCifar10BatchRecords = 10000;   // each data_batch_N.bin
constexpr int64_t kCifar100TrainRecords = 50000;  // train.bin
using Format = CifarFormat;
const Format& kCifar10 = kCifar10Format;
const Format& kCifar100 = kCifar100Format;

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
  cifar_record_count(path, size, fmt);  // the size's verdict before a byte is read
  std::ifstream in(path, std::ios::binary);
  GNAS_CHECK_AS(DataError, in.good(), path, ": cannot open the file");
  std::vector<uint8_t> buf(static_cast<std::size_t>(size));
  in.read(reinterpret_cast<char*>(buf.data()), size);
  GNAS_CHECK_AS(DataError, in.gcount() == size, path, ": short read");
  const int64_t n = append_cifar_records(path, buf.data(), buf.size(), fmt, images, labels);
  if (n < official)
    GNAS_LOG(WARN) << path << ": " << n << " records, fewer than the official " << official
                   << " (a truncated copy?); " << consequence;
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
