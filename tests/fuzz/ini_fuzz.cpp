// The INI reader (io/ini.h): config.ini of every run, read again by --resume, `gnas runs` and the
// analysis. Invariant: a text read without error has no difference from itself.
#include "fuzz_support.h"
#include "gnas/io/ini.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string t = gnas::fuzz::text(data, size);
  GNAS_FUZZ_REFUSALS_OK({
    const auto keys = gnas::io::parse_ini(t);
    if (!gnas::io::diff_ini(t, t).empty()) gnas::fuzz::violated("diff_ini(text, text) is not empty");
    for (const auto& kv : keys)
      if (kv.first.empty()) gnas::fuzz::violated("an empty key was read");
  })
  return 0;
}
