#pragma once
/// A small HDF5 file of named float matrices (e.g. `gnas tabular`'s best-so-far curves, one row per
/// run) with string attributes on the root. Plain C++; only src/io/hdf5_*.cpp include <hdf5.h>.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gnas::io {

struct Matrix {
  std::vector<float> values;  ///< row-major rows x cols
  std::uint64_t rows = 0, cols = 0;
};

/// Writes `path` (replacing it) with one dataset per entry of `matrices` ("group/name" paths create
/// their groups) and one string attribute per entry of `attrs`. Throws IoError.
void write_matrices(const std::string& path, const std::map<std::string, Matrix>& matrices,
                    const std::map<std::string, std::string>& attrs);

}  // namespace gnas::io
