#pragma once
/// The header of a retrained model file: what `evaluate` rebuilds the network from, stored beside
/// its weights (train/checkpoint.cpp writes and reads the archive). The archive's entries come here
/// as plain numbers and text and are checked without libtorch, before a network is built from them
/// (the fuzz harness model_header drives this).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gnas/nn/options.h"
#include "gnas/space/genome.h"
#include "gnas/train/options.h"

namespace gnas::train {

/// The entries as stored; an optional one is absent in files written before it existed.
struct ModelHeaderFields {
  std::vector<std::int64_t> format;  ///< gnas_format: {2}
  std::vector<std::int64_t> shape;   ///< gnas_shape: {C, N_cell, N_b, classes}
  std::vector<std::int64_t> genes;   ///< gnas_genome
  std::optional<std::vector<std::int64_t>> net;             ///< gnas_net: {compat, share_slots}
  std::optional<std::vector<std::int64_t>> synthetic_test;  ///< gnas_synthetic_test: {images, seed}
  std::optional<std::string> space;      ///< gnas_space (absent: the paper's)
  std::optional<std::string> precision;  ///< gnas_precision (absent: fp32)
};

/// What the header says, checked.
struct ModelHeader {
  nn::NetOptions net;
  std::int64_t num_classes = 0;
  space::Genome genome;  ///< a valid cell of net.space
  Precision precision = Precision::kFp32;
  std::optional<std::pair<int, std::uint64_t>> synthetic_test;  ///< the synthetic test split's size and seed
};

/// Throws IoError "--model 'PATH': ..." naming the first entry that is impossible: an unsupported
/// format, a shape outside the options' bounds, an unknown space or precision, flags other than 0/1,
/// a genome that is not a cell of its space.
ModelHeader check_model_header(const ModelHeaderFields& f, const std::string& path);

}  // namespace gnas::train
