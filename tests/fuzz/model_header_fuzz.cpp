// The header of a retrained model file (train/model_header.h): the entries gnas reads beside the
// weights and checks before it builds a network from them. The archive itself is libtorch's (its
// container, the seal, has its own harness); here the entries come as text lines, one per entry:
//   format=2  shape=C,N_cell,N_b,classes  genes=g0,g1,...  net=compat,share  synthetic=images,seed
//   space=NAME  precision=NAME        (a missing optional line is an entry absent from the file)
// Invariants: an accepted header has options within their bounds and a genome of its space, and
// written back as entries it is accepted again as the same header.
#include <cstdlib>
#include <optional>
#include <sstream>

#include "fuzz_support.h"
#include "gnas/train/model_header.h"
#include "gnas/space/space.h"

namespace {

std::vector<std::int64_t> numbers(const std::string& text) {
  std::vector<std::int64_t> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::strtoll(item.c_str(), nullptr, 10));
  return out;
}

gnas::train::ModelHeaderFields fields_of(const gnas::train::ModelHeader& h) {
  gnas::train::ModelHeaderFields f;
  f.format = {2};
  f.shape = {h.net.channels, h.net.cells, h.net.blocks, h.num_classes};
  f.genes.assign(h.genome.begin(), h.genome.end());
  f.net = std::vector<std::int64_t>{std::int64_t(h.net.compat), std::int64_t(h.net.share_slots)};
  if (h.synthetic_test)
    f.synthetic_test = std::vector<std::int64_t>{h.synthetic_test->first, std::int64_t(h.synthetic_test->second)};
  f.space = h.net.space;
  for (const auto& [name, value] : gnas::train::kPrecisions)
    if (value == h.precision) f.precision = name;
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gnas::train::ModelHeaderFields f;
  std::stringstream in(gnas::fuzz::text(data, size));
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "format") f.format = numbers(value);
    else if (key == "shape") f.shape = numbers(value);
    else if (key == "genes") f.genes = numbers(value);
    else if (key == "net") f.net = numbers(value);
    else if (key == "synthetic") f.synthetic_test = numbers(value);
    else if (key == "space") f.space = value;
    else if (key == "precision") f.precision = value;
  }
  std::optional<gnas::train::ModelHeader> h;
  GNAS_FUZZ_REFUSALS_OK({ h = gnas::train::check_model_header(f, "fuzz.pt"); })
  if (!h) return 0;
  try {
    h->net.validate();
    gnas::space::make_space(h->net.space, h->net.blocks)->validate(h->genome);
  } catch (const gnas::Error&) {
    gnas::fuzz::violated("an accepted header fails the options' bounds or its space's genome check");
  }
  if (h->num_classes < 2 || h->num_classes > 100000) gnas::fuzz::violated("classes out of bounds accepted");
  gnas::train::ModelHeader again;
  try {
    again = gnas::train::check_model_header(fields_of(*h), "again.pt");
  } catch (const gnas::Error&) {
    gnas::fuzz::violated("an accepted header, written back, is refused");
  }
  if (again.net.channels != h->net.channels || again.net.cells != h->net.cells || again.net.blocks != h->net.blocks ||
      again.net.space != h->net.space || again.net.compat != h->net.compat ||
      again.net.share_slots != h->net.share_slots || again.num_classes != h->num_classes ||
      again.genome != h->genome || again.precision != h->precision || again.synthetic_test != h->synthetic_test)
    gnas::fuzz::violated("an accepted header, written back, reads as another");
  return 0;
}
