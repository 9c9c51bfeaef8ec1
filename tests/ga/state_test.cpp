// The GA state's one encoding (ga/state.h): what a checkpoint stores and rank 0 broadcasts.
#include "gnas/ga/state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "gnas/core/error.h"

namespace gnas::ga {
namespace {

GaState sample_state(std::size_t n_p, std::size_t n_g, std::size_t length, std::uint64_t seed) {
  Rng rng(seed);
  GaState s;
  for (std::size_t i = 0; i < n_p; ++i) {
    Genome g(length);
    for (auto& x : g) x = static_cast<std::uint8_t>(rng.uniform_int(256));
    s.population.push_back({g, static_cast<float>(rng.uniform_int(100000)) / 1000.f});
  }
  for (std::size_t i = 0; i < n_g; ++i) {
    Genome g(length);
    for (auto& x : g) x = static_cast<std::uint8_t>(rng.uniform_int(256));
    s.generation.push_back(g);
  }
  s.rng = rng.state();
  return s;
}

std::vector<std::uint8_t> encode(const GaState& s, std::size_t length) {
  Rng r;
  r.set_state(s.rng);
  return encode_state(s.population, s.generation, r, length);
}

TEST(GaStateTest, RoundTripIsExactAndTheSizeIsTheShapes) {
  const GaState s = sample_state(4, 6, 60, 7);
  auto with_nan = s;
  with_nan.population[1].fitness = std::numeric_limits<float>::quiet_NaN();
  with_nan.population[2].fitness = -0.0f;
  for (const GaState& original : {s, with_nan}) {
    const auto bytes = encode(original, 60);
    const GaStateShape shape{4, 6, 60};
    EXPECT_EQ(bytes.size(), encoded_size(shape));
    EXPECT_EQ(bytes.size(), 16u + 4 * (60 + 4) + 6 * 60 + 32);
    EXPECT_TRUE(shape_of(bytes, "t") == shape);
    const GaState back = decode_state(bytes, shape, "t");
    ASSERT_EQ(back.population.size(), 4u);
    for (std::size_t i = 0; i < 4; ++i) {
      EXPECT_EQ(back.population[i].genome, original.population[i].genome);
      const float a = back.population[i].fitness, b = original.population[i].fitness;
      EXPECT_TRUE((std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b))) << i;
    }
    EXPECT_EQ(back.generation, original.generation);
    EXPECT_EQ(back.rng, original.rng);
  }
  // The layout is fixed: little-endian counts after the magic, whatever the host.
  const auto bytes = encode(s, 60);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 4), "GAS1");
  EXPECT_EQ(bytes[4], 4);
  EXPECT_EQ(bytes[8], 6);
  EXPECT_EQ(bytes[12], 60);
  EXPECT_EQ(bytes[13], 0);
}

TEST(GaStateTest, EmptyPopulationAndGenerationRoundTrip) {
  GaState s;
  s.rng = Rng(3).state();
  const auto bytes = encode(s, 6);
  const GaState back = decode_state(bytes, {0, 0, 6}, "t");
  EXPECT_TRUE(back.population.empty());
  EXPECT_TRUE(back.generation.empty());
  EXPECT_EQ(back.rng, s.rng);
}

TEST(GaStateTest, ReaderChecksEveryLengthAndNamesTheSource) {
  const auto bytes = encode(sample_state(4, 6, 60, 1), 60);
  const auto fails = [](const std::vector<std::uint8_t>& b, const GaStateShape& expect, const std::string& phrase) {
    EXPECT_THAT([&] { decode_state(b, expect, "the GA state from rank 0"); },
                ::testing::ThrowsMessage<IoError>(::testing::AllOf(::testing::HasSubstr("the GA state from rank 0"),
                                                                   ::testing::HasSubstr(phrase))))
        << phrase;
  };
  // Another run's shape: N_p, N_g or the genome length differs.
  fails(bytes, {5, 6, 60}, "the GA state is of N_p 4, N_g 6, 60 genes, this run's of N_p 5, N_g 6, 60 genes");
  fails(bytes, {4, 7, 60}, "this run's of N_p 4, N_g 7");
  fails(bytes, {4, 6, 6}, "6 genes");
  // Truncated, padded, too short for a header, another magic.
  fails(std::vector<std::uint8_t>(bytes.begin(), bytes.end() - 1), {4, 6, 60}, "needs " + std::to_string(bytes.size()));
  auto padded = bytes;
  padded.push_back(0);
  fails(padded, {4, 6, 60}, "has " + std::to_string(bytes.size() + 1) + " bytes");
  fails(std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 10), {4, 6, 60}, "not an encoded GA state");
  auto magic = bytes;
  magic[0] = 'X';
  fails(magic, {4, 6, 60}, "no 'GAS1' header");
  // A header whose counts promise more than the bytes hold is refused before anything is read.
  auto lying = bytes;
  lying[5] = 0x10;  // N_p 4 + 4096
  fails(lying, {4, 6, 60}, "its header (N_p 4100");
  // Counts beyond the writer's limits (whose sizes could overflow) are refused from the header.
  auto huge = bytes;
  huge[7] = 0xff;  // N_p near 2^32
  fails(huge, {4, 6, 60}, "beyond what gnas writes");
}

TEST(GaStateTest, WriterRefusesGenomesOfAnotherLength) {
  GaState s = sample_state(2, 2, 6, 2);
  s.generation[1].push_back(0);
  EXPECT_THROW(encode(s, 6), Error);
}

}  // namespace
}  // namespace gnas::ga
