// The model file's header (train/model_header.h): what evaluate rebuilds a network from, checked before
// one is built. Each impossible entry is refused naming the file and the entry.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gnas/core/error.h"
#include "gnas/train/model_header.h"

namespace {

using gnas::IoError;
using gnas::train::check_model_header;
using gnas::train::ModelHeaderFields;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

ModelHeaderFields nb201() {
  ModelHeaderFields f;
  f.format = {2};
  f.shape = {16, 5, 5, 10};
  f.genes = {3, 3, 1, 0, 2, 4};
  f.net = std::vector<std::int64_t>{0, 1};
  f.synthetic_test = std::vector<std::int64_t>{1000, 1234};
  f.space = "nb201";
  f.precision = "bf16";
  return f;
}

TEST(ModelHeaderTest, AcceptsWhatGnasWrites) {
  const auto h = check_model_header(nb201(), "m.pt");
  EXPECT_EQ(h.net.space, "nb201");
  EXPECT_EQ(h.net.channels, 16);
  EXPECT_EQ(h.net.cells, 5);
  EXPECT_EQ(h.num_classes, 10);
  EXPECT_EQ(h.genome, (gnas::space::Genome{3, 3, 1, 0, 2, 4}));
  EXPECT_TRUE(h.net.share_slots);
  EXPECT_EQ(h.precision, gnas::train::Precision::kBf16);
  ASSERT_TRUE(h.synthetic_test.has_value());
  EXPECT_EQ(h.synthetic_test->first, 1000);
  EXPECT_EQ(h.synthetic_test->second, 1234u);
}

TEST(ModelHeaderTest, OldFilesWithoutTheOptionalEntriesReadAsThePaperSpaceFp32PerSlot) {
  ModelHeaderFields f;
  f.format = {2};
  f.shape = {8, 1, 2, 10};
  f.genes.assign(24, 0);  // 3 cells x 2 blocks x 4 genes, every input 0 and op 0
  const auto h = check_model_header(f, "old.pt");
  EXPECT_EQ(h.net.space, "paper");
  EXPECT_EQ(h.net.compat, gnas::NetCompat::kPaper);
  EXPECT_FALSE(h.net.share_slots);
  EXPECT_EQ(h.precision, gnas::train::Precision::kFp32);
  EXPECT_FALSE(h.synthetic_test.has_value());
}

TEST(ModelHeaderTest, EachImpossibleEntryIsNamed) {
  auto refused = [](const ModelHeaderFields& f, const std::string& phrase) {
    EXPECT_THAT([&] { check_model_header(f, "bad.pt"); }, ThrowsMessage<IoError>(HasSubstr(phrase))) << phrase;
    EXPECT_THAT([&] { check_model_header(f, "bad.pt"); }, ThrowsMessage<IoError>(HasSubstr("--model 'bad.pt'")));
  };
  auto f = nb201();
  f.format = {3};
  refused(f, "unsupported model format (gnas_format 3");
  f = nb201();
  f.shape = {16, 5, 5};
  refused(f, "unsupported model format");
  f = nb201();
  f.net = std::vector<std::int64_t>{2, 1};
  refused(f, "impossible network header (gnas_net)");
  f = nb201();
  f.space = "darts";
  refused(f, "unknown search space 'darts'");
  f = nb201();
  f.precision = "fp8";
  refused(f, "unknown precision 'fp8'");
  f = nb201();
  f.synthetic_test = std::vector<std::int64_t>{0, 1};
  refused(f, "impossible synthetic test split");
  f = nb201();
  f.shape = {16, 5, 4294967301LL, 10};  // 2^32 + 5: narrowed to an int it would read as 5
  refused(f, "impossible shape header (N_b=4294967301)");
  f = nb201();
  f.shape = {16, 5, 17, 10};
  refused(f, "impossible shape header (--net.blocks must be in [1, 16], got 17)");
  f = nb201();
  f.shape = {0, 5, 5, 10};
  refused(f, "impossible shape header (--net.channels must be in [1, 4096], got 0)");
  f = nb201();
  f.shape = {16, 5, 5, 1};
  refused(f, "impossible shape header (classes=1)");
  f = nb201();
  f.genes = {3, 3, 1, 0, 2, 300};
  refused(f, "gene 5 is 300");
  f = nb201();
  f.genes = {3, 3, 1, 0, 2, 5};
  refused(f, "its genome is not a cell of the nb201 space");
  f = nb201();
  f.genes = {3, 3, 1};
  refused(f, "its genome is not a cell of the nb201 space");
}

}  // namespace
