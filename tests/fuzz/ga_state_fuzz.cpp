// The GA state (ga/state.h): what a checkpoint stores and rank 0 broadcasts. Invariant: bytes that
// decode encode to the same bytes.
#include <vector>

#include "fuzz_support.h"
#include "gnas/ga/state.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<std::uint8_t> bytes(data, data + size);
  GNAS_FUZZ_REFUSALS_OK({
    const auto shape = gnas::ga::shape_of(bytes, "fuzz input");
    if (gnas::ga::encoded_size(shape) != bytes.size()) gnas::fuzz::violated("shape_of accepted a wrong size");
    const auto s = gnas::ga::decode_state(bytes, shape, "fuzz input");
    gnas::Rng rng(0);
    rng.set_state(s.rng);
    if (gnas::ga::encode_state(s.population, s.generation, rng, shape.length) != bytes)
      gnas::fuzz::violated("decode then encode changed the bytes");
  })
  return 0;
}
