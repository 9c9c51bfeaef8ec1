#include "gnas/ga/state.h"

#include <cstring>

#include "gnas/core/error.h"

namespace gnas::ga {
namespace {

constexpr char kMagic[4] = {'G', 'A', 'S', '1'};
constexpr std::size_t kHeader = 4 + 3 * 4;
constexpr std::size_t kMaxLength = std::size_t(1) << 20, kMaxMembers = std::size_t(1) << 24;

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put_u64(std::vector<std::uint8_t>& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::uint64_t get_le(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t(p[i]) << (8 * i);
  return v;
}
std::uint32_t float_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
float bits_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
std::string describe(const GaStateShape& s) {
  return detail::concat("N_p ", s.population, ", N_g ", s.generation, ", ", s.length, " genes");
}

}  // namespace

std::size_t encoded_size(const GaStateShape& s) {
  return kHeader + s.population * (s.length + 4) + s.generation * s.length + 4 * 8;
}

std::vector<std::uint8_t> encode_state(const std::vector<Member>& population, const std::vector<Genome>& generation,
                                       const Rng& rng, std::size_t length) {
  const GaStateShape shape{population.size(), generation.size(), length};
  GNAS_CHECK(length < kMaxLength && shape.population < kMaxMembers && shape.generation < kMaxMembers,
             "GA state too large to encode: ", describe(shape));
  std::vector<std::uint8_t> out(kMagic, kMagic + 4);
  out.reserve(encoded_size(shape));
  put_u32(out, std::uint32_t(shape.population));
  put_u32(out, std::uint32_t(shape.generation));
  put_u32(out, std::uint32_t(length));
  for (const auto& m : population) {
    GNAS_CHECK(m.genome.size() == length, "GA state: a population genome has ", m.genome.size(), " genes, not ", length);
    out.insert(out.end(), m.genome.begin(), m.genome.end());
  }
  for (const auto& m : population) put_u32(out, float_bits(m.fitness));
  for (const auto& g : generation) {
    GNAS_CHECK(g.size() == length, "GA state: a generation genome has ", g.size(), " genes, not ", length);
    out.insert(out.end(), g.begin(), g.end());
  }
  for (std::uint64_t w : rng.state()) put_u64(out, w);
  return out;
}

GaStateShape shape_of(const std::vector<std::uint8_t>& bytes, const std::string& what) {
  GNAS_CHECK_AS(IoError, bytes.size() >= kHeader && std::memcmp(bytes.data(), kMagic, 4) == 0, what,
                ": not an encoded GA state (", bytes.size(), " bytes, no 'GAS1' header)");
  const GaStateShape s{get_le(bytes.data() + 4, 4), get_le(bytes.data() + 8, 4), get_le(bytes.data() + 12, 4)};
  // The writer's own limits first: within them the size below cannot overflow.
  GNAS_CHECK_AS(IoError, s.length < kMaxLength && s.population < kMaxMembers && s.generation < kMaxMembers, what,
                ": the GA state's header declares ", describe(s), ", beyond what gnas writes");
  GNAS_CHECK_AS(IoError, bytes.size() == encoded_size(s), what, ": the GA state has ", bytes.size(),
                " bytes, its header (", describe(s), ") needs ", encoded_size(s));
  return s;
}

GaState decode_state(const std::vector<std::uint8_t>& bytes, const GaStateShape& expected, const std::string& what) {
  const GaStateShape s = shape_of(bytes, what);
  GNAS_CHECK_AS(IoError, s == expected, what, ": the GA state is of ", describe(s), ", this run's of ",
                describe(expected));
  GaState out;
  const std::uint8_t* p = bytes.data() + kHeader;
  out.population.resize(s.population);
  for (auto& m : out.population) {
    m.genome.assign(p, p + s.length);
    p += s.length;
  }
  for (auto& m : out.population) {
    m.fitness = bits_float(std::uint32_t(get_le(p, 4)));
    p += 4;
  }
  out.generation.resize(s.generation);
  for (auto& g : out.generation) {
    g.assign(p, p + s.length);
    p += s.length;
  }
  for (auto& w : out.rng) {
    w = get_le(p, 8);
    p += 8;
  }
  return out;
}

}  // namespace gnas::ga
