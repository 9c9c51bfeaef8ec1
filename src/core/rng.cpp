#include "gnas/core/rng.h"

#include <sstream>

#include "gnas/core/error.h"

namespace gnas {
namespace {
std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
inline std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
  for (auto& w : state_) w = splitmix64(x);
}

std::uint64_t Rng::next_u64() {
  const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

std::uint64_t Rng::uniform_int(std::uint64_t n) {
  GNAS_CHECK(n >= 1, "Rng::uniform_int: n must be >= 1, got ", n);
  if (n == 1) return 0;
  const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);
  std::uint64_t x;
  do {
    x = next_u64();
  } while (x >= limit);
  return x % n;
}

double Rng::uniform01() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

bool Rng::bernoulli(double p) { return uniform01() < p; }

std::string Rng::to_string() const {
  std::ostringstream out;
  out << std::hex;
  for (std::size_t i = 0; i < state_.size(); ++i) out << (i ? " " : "") << state_[i];
  return out.str();
}

Rng Rng::from_string(const std::string& text) {
  std::istringstream in(text);
  Rng r;
  State s{};
  for (auto& w : s) {
    in >> std::hex >> w;
    GNAS_CHECK_AS(Error, !in.fail(), "Rng state: expected 4 hex words, got '", text, "'");
  }
  r.set_state(s);
  return r;
}

}  // namespace gnas
