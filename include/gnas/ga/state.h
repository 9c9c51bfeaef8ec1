#pragma once
/// The GA's state between rounds (population with fitness, next generation, the GA's generator) as
/// bytes: the one encoding that a checkpoint stores and that rank 0 broadcasts after each
/// replacement. Plain C++, no torch.
///
/// Layout, little-endian: "GAS1", u32 N_p, u32 N_g, u32 genome length L, then N_p*L genes of the
/// population, N_p float32 fitness values, N_g*L genes of the generation, 4 u64 generator words.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "gnas/core/rng.h"
#include "gnas/ga/operators.h"

namespace gnas::ga {

struct GaState {
  std::vector<Member> population;
  std::vector<Genome> generation;
  Rng::State rng{};
};

/// The shape of an encoded state: what every rank of a run knows before a broadcast.
struct GaStateShape {
  std::size_t population = 0;  ///< N_p
  std::size_t generation = 0;  ///< N_g
  std::size_t length = 0;      ///< genes per genome
  bool operator==(const GaStateShape& o) const {
    return population == o.population && generation == o.generation && length == o.length;
  }
};

/// The encoded size of a state of this shape.
std::size_t encoded_size(const GaStateShape& shape);

/// Throws gnas::Error when a genome's length is not `length`.
std::vector<std::uint8_t> encode_state(const std::vector<Member>& population, const std::vector<Genome>& generation,
                                       const Rng& rng, std::size_t length);

/// The shape an encoding declares; a gnas::IoError naming `what` when the bytes are not an encoded
/// state (too short, another magic) or their size is not the declared shape's.
GaStateShape shape_of(const std::vector<std::uint8_t>& bytes, const std::string& what);

/// Decodes `bytes`, checking that they are a whole state of shape `expected` (a gnas::IoError naming
/// `what` and both shapes otherwise: it never reads past the end).
GaState decode_state(const std::vector<std::uint8_t>& bytes, const GaStateShape& expected, const std::string& what);

}  // namespace gnas::ga
