// Replays a fuzz corpus through a harness once, without libFuzzer: what `ctest -L fuzz` runs in
// every build, so that each input that ever crashed a reader (and each seed) is checked again.
// Usage: HARNESS_replay FILE_OR_DIR...   (a directory: every regular file in it, in name order)
// Exits 1 when an argument holds no input at all: a missing corpus must not pass as an empty one.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::size_t total = 0;
  for (int i = 1; i < argc; ++i) {
    std::vector<fs::path> files;
    std::error_code ec;
    if (fs::is_directory(argv[i], ec)) {
      for (const auto& e : fs::directory_iterator(argv[i], ec))
        if (e.is_regular_file()) files.push_back(e.path());
      std::sort(files.begin(), files.end());
    } else if (fs::is_regular_file(argv[i], ec)) {
      files.push_back(argv[i]);
    }
    if (files.empty()) {
      std::fprintf(stderr, "replay: %s: no inputs (a missing or empty corpus)\n", argv[i]);
      return 1;
    }
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!in.good() && !in.eof()) {
        std::fprintf(stderr, "replay: cannot read %s\n", f.c_str());
        return 1;
      }
      std::fprintf(stderr, "replay: %s (%zu bytes)\n", f.c_str(), bytes.size());
      // A heap block of exactly the input's size, as libFuzzer passes it: a string's spare capacity
      // (and its terminator) would let AddressSanitizer miss a read just past the end.
      std::unique_ptr<std::uint8_t[]> exact(new std::uint8_t[bytes.size()]);  // 0 bytes too: any read is caught
      std::memcpy(exact.get(), bytes.data(), bytes.size());
      LLVMFuzzerTestOneInput(exact.get(), bytes.size());
      ++total;
    }
  }
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  std::printf("replayed %zu inputs\n", total);
  return 0;
}
