#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <torch/torch.h>

#include <cstdio>
#include <fstream>

#include "gnas/core/error.h"
#include "gnas/data/augment.h"
#include "gnas/data/dataset.h"
#include "gnas/nn/supernet.h"
#include "gnas/train/batches.h"
#include "gnas/train/device.h"
#include "gnas/train/evaluation.h"
#include "gnas/train/optim.h"
#include "gnas/train/resume_config.h"

namespace gnas::data {
namespace {

// ---------- synthetic data ----------

TEST(SyntheticTest, DeterministicForASeedAndShaped) {
  const Dataset a = make_synthetic(50, 20, 10, 3), b = make_synthetic(50, 20, 10, 3), c = make_synthetic(50, 20, 10, 4);
  EXPECT_EQ(a.train.images.sizes(), torch::IntArrayRef({50, 3, 32, 32}));
  EXPECT_EQ(a.train.images.scalar_type(), torch::kUInt8);
  EXPECT_EQ(a.val.size(), 20);
  EXPECT_EQ(a.test.size(), 10);
  EXPECT_TRUE(torch::equal(a.train.images, b.train.images));
  EXPECT_TRUE(torch::equal(a.test.labels, b.test.labels));
  EXPECT_FALSE(torch::equal(a.train.images, c.train.images));
  EXPECT_GE(a.train.labels.min().item<int64_t>(), 0);
  EXPECT_LE(a.train.labels.max().item<int64_t>(), 9);
  // Changing one split's size does not change the others.
  const Dataset d = make_synthetic(60, 20, 10, 3);
  EXPECT_TRUE(torch::equal(a.val.images, d.val.images));
}

TEST(SyntheticTest, ClassesAreBalancedAndPixelsVary) {
  const Dataset d = make_synthetic(5000, 10, 10, 1);
  auto counts = torch::bincount(d.train.labels, {}, 10);
  for (int k = 0; k < 10; ++k) EXPECT_NEAR(counts[k].item<int64_t>(), 500, 120) << k;  // sd ~ 21
  EXPECT_GT(d.train.images.to(torch::kFloat).std().item<double>(), 30.0);
}

TEST(SyntheticTest, ASmallConvnetLearnsItWellAboveChance) {
  torch::manual_seed(0);
  const Dataset d = make_synthetic(1500, 500, 10, 11);
  nn::NetworkOptions o;
  o.channels = 4;
  o.cells = 1;
  o.dropout = 0;
  space::SearchSpace s;
  // A fixed all-separable-conv genome: every block is sep3 + sep5 on the cell inputs.
  space::Genome g(60);
  for (int i = 0; i < 60; ++i) g[i] = (i % 4 == 2) ? 3 : (i % 4 == 3) ? 4 : 0;
  o.fixed = g;
  nn::Supernet net = nn::make_network(o);
  train::TrainOptions t;
  t.lr = 0.05;
  auto sgd = train::make_sgd(net->parameters(), t);
  Rng r(1);
  for (int epoch = 0; epoch < 3; ++epoch) {
    auto perm = train::permutation(d.train.size(), r);
    for (int64_t i = 0; i + 50 <= d.train.size(); i += 50) {
      std::vector<int64_t> idx(perm.begin() + i, perm.begin() + i + 50);
      auto [x, y] = train::make_batch(d.train, idx, false, 0, r);
      sgd->zero_grad();
      torch::cross_entropy_loss(net->forward(x), y).backward();
      sgd->step();
    }
  }
  const double acc = train::evaluate_accuracy(net, d.val.images, d.val.labels, 250);
  EXPECT_GT(acc, 40.0) << "chance is 10%";
}

// ---------- augmentation ----------

TEST(AugmentTest, NormalizeUsesTheExactConstants) {
  auto img = torch::zeros({1, 3, 1, 2}, torch::kUInt8);
  img.index_put_({0, 0, 0, 1}, 255);
  auto n = normalize(img);
  const double mean_r = 125.3 / 255, std_r = 63.0 / 255, mean_b = 113.9 / 255, std_b = 66.7 / 255;
  EXPECT_NEAR(n[0][0][0][0].item<float>(), -mean_r / std_r, 1e-5);
  EXPECT_NEAR(n[0][0][0][1].item<float>(), (1 - mean_r) / std_r, 1e-5);
  EXPECT_NEAR(n[0][2][0][0].item<float>(), -mean_b / std_b, 1e-5);
}

TEST(AugmentTest, CropOffsetsStayInsideThePaddingAndCropExactly) {
  Rng r(1);
  const auto d = draw_augment(2000, 4, 32, 32, r);
  for (std::size_t i = 0; i < d.dy.size(); ++i) {
    ASSERT_GE(d.dy[i], 0);
    ASSERT_LE(d.dy[i], 8);
    ASSERT_GE(d.dx[i], 0);
    ASSERT_LE(d.dx[i], 8);
  }
  EXPECT_EQ(*std::min_element(d.dy.begin(), d.dy.end()), 0);
  EXPECT_EQ(*std::max_element(d.dx.begin(), d.dx.end()), 8);
  // A 4x4 image with pad 1, crop at (dy, dx) = (0, 2): row 0 is padding, columns shift left by 1.
  auto x = torch::arange(1, 17, torch::kFloat).view({1, 1, 4, 4});
  AugmentDraw one{{0}, {2}, {0}, {0}, {0}};
  auto y = augment(x, one, 1, 0);
  auto expected = torch::tensor({0.f, 0.f, 0.f, 0.f, 2.f, 3.f, 4.f, 0.f, 6.f, 7.f, 8.f, 0.f, 10.f, 11.f, 12.f, 0.f})
                      .view({1, 1, 4, 4});
  EXPECT_TRUE(torch::equal(y, expected)) << y;
  // Offset (pad, pad) is the identity crop.
  AugmentDraw centre{{1}, {1}, {0}, {0}, {0}};
  EXPECT_TRUE(torch::equal(augment(x, centre, 1, 0), x));
}

/// Training batches pad with black pixels as the authors do (zeros before normalisation, so
/// -mean/std per channel after it), not with the mean colour; the image inside is copied exactly.
TEST(AugmentTest, CropPaddingIsBlackBeforeNormalisation) {
  auto u8 = torch::full({1, 3, 4, 4}, 200, torch::kUInt8);
  const auto x = normalize(u8);
  const auto black = normalized_black();
  ASSERT_EQ(black.size(), 3u);
  const auto zero_pixel = normalize(torch::zeros({1, 3, 1, 1}, torch::kUInt8));
  for (int ch = 0; ch < 3; ++ch) EXPECT_NEAR(black[ch], zero_pixel[0][ch][0][0].item<double>(), 1e-5);
  AugmentDraw corner{{0}, {0}, {0}, {0}, {0}};  // crop at (0, 0): row 0 and column 0 are padding
  const auto y = augment(x, corner, 1, 0, black);
  for (int ch = 0; ch < 3; ++ch) {
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(y[0][ch][0][i].item<float>(), float(black[ch])) << "channel " << ch;
      EXPECT_EQ(y[0][ch][i][0].item<float>(), float(black[ch])) << "channel " << ch;
    }
    EXPECT_TRUE(torch::equal(y[0][ch].slice(0, 1, 4).slice(1, 1, 4), x[0][ch].slice(0, 0, 3).slice(1, 0, 3)));
  }
  AugmentDraw centre{{1}, {1}, {0}, {0}, {0}};
  EXPECT_TRUE(torch::equal(augment(x, centre, 1, 0, black), x));
  EXPECT_THROW(augment(x, centre, 1, 0, {0.0, 0.0}), gnas::Error);  // one value per channel
}

TEST(AugmentTest, FlipMirrorsExactly) {
  auto x = torch::arange(0, 24, torch::kFloat).view({2, 3, 2, 2});
  AugmentDraw d{{0, 0}, {0, 0}, {1, 0}, {0, 0}, {0, 0}};
  auto y = augment(x, d, 0, 0);
  EXPECT_TRUE(torch::equal(y[0], x[0].flip({2})));
  EXPECT_TRUE(torch::equal(y[1], x[1]));
}

TEST(AugmentTest, CutoutHoleHasTheRightAreaClippedAtBorders) {
  auto x = torch::ones({3, 2, 32, 32});
  // Centre, corner (clipped to 8x8), and edge (clipped to 16 x 10).
  AugmentDraw d{{0, 0, 0}, {0, 0, 0}, {0, 0, 0}, {16, 0, 5}, {16, 0, 31}};
  auto y = augment(x, d, 0, 16);
  auto zeros = (y == 0).sum({1, 2, 3}) / 2;  // per channel
  EXPECT_EQ(zeros[0].item<int64_t>(), 16 * 16);
  EXPECT_EQ(zeros[1].item<int64_t>(), 8 * 8);
  EXPECT_EQ(zeros[2].item<int64_t>(), 13 * 9);  // rows 0..12 (5-8..5+7), cols 23..31
  EXPECT_EQ(y[0][0][8][8].item<float>(), 0.f);
  EXPECT_EQ(y[0][0][7][8].item<float>(), 1.f);
  EXPECT_EQ(y[0][0][23][23].item<float>(), 0.f);
  EXPECT_EQ(y[0][0][24][24].item<float>(), 1.f);
}

TEST(AugmentTest, SameSeedSameBatch) {
  const Dataset d = make_synthetic(64, 2, 2, 5);
  std::vector<int64_t> idx(32);
  for (int i = 0; i < 32; ++i) idx[i] = 2 * i;
  Rng a(9), b(9);
  auto x = train::make_batch(d.train, idx, true, 16, a).first;
  auto y = train::make_batch(d.train, idx, true, 16, b).first;
  EXPECT_TRUE(torch::equal(x, y));
}

// ---------- CIFAR readers ----------

class CifarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gnas_cifar_testXXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  /// Writes `n` records: the label bytes `labels(i)` and pixels (i + p) % 251.
  void write(const std::string& name, int n, const std::function<std::vector<int>(int)>& labels) {
    std::ofstream out(dir_ + "/" + name, std::ios::binary);
    for (int i = 0; i < n; ++i) {
      for (int l : labels(i)) out.put(static_cast<char>(l));
      for (int p = 0; p < 3072; ++p) out.put(static_cast<char>((i + p) % 251));
    }
  }
  void cifar10(int per_batch, int batches = 5, int test = 12) {
    for (int b = 1; b <= batches; ++b)
      write("data_batch_" + std::to_string(b) + ".bin", per_batch, [=](int i) { return std::vector<int>{(i + b) % 10}; });
    write("test_batch.bin", test, [](int i) { return std::vector<int>{i % 10}; });
    std::ofstream meta(dir_ + "/batches.meta.txt");
    for (int k = 0; k < 10; ++k) meta << "class" << k << "\n";
  }
  void expect_data_error(const std::string& phrase) {
    EXPECT_THAT([&] { load_cifar(dir_, 2, 0); }, ::testing::ThrowsMessage<DataError>(::testing::HasSubstr(phrase)));
  }
  std::string dir_;
};

TEST_F(CifarTest, Cifar10RoundTripAndValidationSplit) {
  cifar10(4);
  const Dataset d = load_cifar(dir_, 5, 0);
  EXPECT_EQ(d.name, "cifar10");
  EXPECT_EQ(d.num_classes, 10);
  EXPECT_EQ(d.train.size(), 15);
  EXPECT_EQ(d.val.size(), 5);  // the last 5 of the 20 training records
  EXPECT_EQ(d.test.size(), 12);
  EXPECT_EQ(d.class_names[3], "class3");
  EXPECT_EQ(d.train.labels[0].item<int64_t>(), 1);  // batch 1, record 0
  EXPECT_EQ(d.train.labels[4].item<int64_t>(), 2);  // batch 2, record 0
  EXPECT_EQ(d.val.labels[4].item<int64_t>(), (3 + 5) % 10);  // batch 5, record 3
  // Pixel p of record i is (i + p) % 251, laid out as R, G, B planes of 32 x 32.
  EXPECT_EQ(d.train.images[1][0][0][5].item<uint8_t>(), (1 + 5) % 251);
  EXPECT_EQ(d.train.images[1][2][31][31].item<uint8_t>(), (1 + 3071) % 251);
  const Dataset limited = load_cifar(dir_, 2, 10);
  EXPECT_EQ(limited.train.size(), 8);
  EXPECT_EQ(limited.val.size(), 2);
}

TEST_F(CifarTest, Cifar100UsesTheFineLabel) {
  write("train.bin", 10, [](int i) { return std::vector<int>{i % 20, 50 + i}; });
  write("test.bin", 3, [](int i) { return std::vector<int>{0, 99 - i}; });
  const Dataset d = load_cifar(dir_, 4, 0);
  EXPECT_EQ(d.name, "cifar100");
  EXPECT_EQ(d.num_classes, 100);
  EXPECT_EQ(d.train.size(), 6);
  EXPECT_EQ(d.train.labels[2].item<int64_t>(), 52);
  EXPECT_EQ(d.test.labels[1].item<int64_t>(), 98);
  EXPECT_EQ(d.test.images[2][0][0][0].item<uint8_t>(), 2);
}

TEST_F(CifarTest, MissingBatchesAreSkippedButAllMissingIsAnError) {
  cifar10(3, 2);
  EXPECT_EQ(load_cifar(dir_, 2, 0).train.size(), 4);
  std::remove((dir_ + "/data_batch_1.bin").c_str());
  std::remove((dir_ + "/data_batch_2.bin").c_str());
  expect_data_error("no CIFAR-10 (data_batch_1..5.bin) or CIFAR-100 (train.bin) training files found");
}

TEST_F(CifarTest, BadFilesNameTheFileAndTheProblem) {
  cifar10(3, 1);
  std::remove((dir_ + "/test_batch.bin").c_str());
  expect_data_error("test_batch.bin: missing test file");
  std::ofstream(dir_ + "/test_batch.bin").close();
  expect_data_error("test_batch.bin: the file is empty");
  {
    std::ofstream f(dir_ + "/test_batch.bin", std::ios::binary);
    f << std::string(3073 + 100, '\0');
  }
  expect_data_error("test_batch.bin: 3173 bytes is not a whole number of CIFAR-10 records");
  write("test_batch.bin", 2, [](int) { return std::vector<int>{10}; });
  expect_data_error("test_batch.bin: record 0 has label 10, but CIFAR-10 labels are in [0, 9]");
  // A CIFAR-100 file (3074-byte records) under a CIFAR-10 name.
  write("test_batch.bin", 5, [](int) { return std::vector<int>{1, 1}; });
  expect_data_error("looks like a CIFAR-100 file");
}

/// Files with fewer records than the official ones (a copy cut at a record boundary) are read with
/// a warning naming the file; a search (need_test = false) neither needs nor mentions the test file.
TEST_F(CifarTest, ShortFilesWarnAndASearchIgnoresTheTestFile) {
  cifar10(4, 2);
  ::testing::internal::CaptureStderr();
  const Dataset d = load_cifar(dir_, 2, 0);
  const std::string warned = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(d.train.size(), 6);
  EXPECT_NE(warned.find("data_batch_1.bin: 4 records, fewer than the official 10000 (a truncated copy?); training on "
                        "the records present"),
            std::string::npos)
      << warned;
  EXPECT_NE(warned.find("test_batch.bin: 12 records, fewer than the official 10000"), std::string::npos) << warned;
  ::testing::internal::CaptureStderr();
  const Dataset search = load_cifar(dir_, 2, 0, /*need_test=*/false);
  const std::string search_warned = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(search.test.size(), 0);
  EXPECT_EQ(search_warned.find("test_batch"), std::string::npos) << search_warned;
  std::remove((dir_ + "/test_batch.bin").c_str());
  EXPECT_EQ(load_cifar(dir_, 2, 0, false).train.size(), 6);  // a search runs without a test file
  expect_data_error("test_batch.bin: missing test file");
}

TEST_F(CifarTest, MissingDirectory) {
  EXPECT_THAT([&] { load_cifar(dir_ + "/nope", 1, 0); },
              ::testing::ThrowsMessage<DataError>(::testing::HasSubstr("no such directory")));
}

TEST(CifarSharedDataTest, FirstRealRecordIsAFrog) {
  // The real CIFAR-10 shipped beside the repository, when present.
  std::string dir;
  // CTest runs the tests from the source root, beside which ../shared lives.
  for (const char* c : {"../shared/data/cifar-10-batches-bin"}) {
    struct stat st {};
    if (::stat(c, &st) == 0) dir = c;
  }
  if (dir.empty()) GTEST_SKIP() << "../shared/data is absent: the real-data check needs the shared CIFAR-10 copy";
  const Dataset d = load_cifar(dir, 5000, 0);
  EXPECT_EQ(d.train.size(), 45000);
  EXPECT_EQ(d.test.size(), 1000);
  EXPECT_EQ(d.train.labels[0].item<int64_t>(), 6);
  EXPECT_EQ(d.class_names[6], "frog");
  auto red = d.train.images[0][0][0];
  EXPECT_EQ(red[0].item<uint8_t>(), 59);
  EXPECT_EQ(red[1].item<uint8_t>(), 43);
  EXPECT_EQ(red[2].item<uint8_t>(), 50);
  EXPECT_EQ(red[3].item<uint8_t>(), 68);
}

}  // namespace
}  // namespace gnas::data
