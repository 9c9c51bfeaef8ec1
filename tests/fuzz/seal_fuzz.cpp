// The seal of checkpoints and model files (io/seal.h): everything gnas checks before libtorch
// unpickles a byte. Invariants: an accepted file's payload, sealed again, is the same file; and
// any input, sealed, is accepted with its own size.
#include "fuzz_support.h"
#include "gnas/io/seal.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes = gnas::fuzz::text(data, size);
  GNAS_FUZZ_REFUSALS_OK({
    const std::size_t n = gnas::io::sealed_payload_size(bytes, "fuzz.pt");
    if (gnas::io::seal_bytes(bytes.substr(0, n)) != bytes) gnas::fuzz::violated("an accepted file is not its seal");
  })
  if (gnas::io::sealed_payload_size(gnas::io::seal_bytes(bytes), "sealed") != size)
    gnas::fuzz::violated("a sealed input is refused");
  return 0;
}
