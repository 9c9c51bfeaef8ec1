#pragma once
/// gnas::Rng: the one explicitly seeded generator behind all GA and data randomness.
/// xoshiro256** seeded through splitmix64; its whole state is 4 words, saved in checkpoints.
#include <array>
#include <cstdint>
#include <string>

namespace gnas {

class Rng {
 public:
  using State = std::array<std::uint64_t, 4>;

  /// Seeds the 256-bit state from `seed` and `stream` (distinct streams never overlap in practice).
  explicit Rng(std::uint64_t seed = 0, std::uint64_t stream = 0);

  std::uint64_t next_u64();
  /// Uniform integer in [0, n); n >= 1. Unbiased (rejection).
  std::uint64_t uniform_int(std::uint64_t n);
  /// Uniform double in [0, 1) with 53 random bits.
  double uniform01();
  /// True with probability p (p <= 0: never, p >= 1: always; one draw either way).
  bool bernoulli(double p);

  const State& state() const { return state_; }
  void set_state(const State& s) { state_ = s; }
  /// State as 4 hex words separated by spaces, and back (throws gnas::Error on bad text).
  std::string to_string() const;
  static Rng from_string(const std::string& text);

  bool operator==(const Rng& o) const { return state_ == o.state_; }

 private:
  State state_{};
};

}  // namespace gnas
