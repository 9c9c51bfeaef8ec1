#include "gnas/fitness/training_free.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>

#include "gnas/core/error.h"
#include "gnas/core/hash.h"
#include "gnas/distributed/communicator.h"
#include "gnas/nn/layers.h"

namespace gnas::fitness {

namespace {

/// Sign codes (x > 0) of a [B, ...] tensor, one bit per unit, each image's bits in `words` 64-bit
/// words (the padding bits are 0 in every image, so they never differ).
std::vector<std::uint64_t> pack_codes(const torch::Tensor& x, int64_t& words) {
  const int64_t b = x.size(0);
  // bool is one byte of 0 or 1: read as bytes, with no conversion pass.
  const torch::Tensor codes = x.reshape({b, -1}).gt(0).to(torch::kCPU).contiguous();
  const int64_t d = codes.size(1);
  words = (d + 63) / 64;
  std::vector<std::uint64_t> out(std::size_t(b * words), 0);
  const auto* p = reinterpret_cast<const std::uint8_t*>(codes.data_ptr<bool>());
  for (int64_t i = 0; i < b; ++i) {
    const std::uint8_t* row = p + i * d;
    std::uint64_t* w = out.data() + i * words;
    int64_t u = 0;
    // Eight 0/1 bytes at a time: the multiply gathers their low bits into the top byte.
    for (; u + 8 <= d; u += 8) {
      std::uint64_t v;
      std::memcpy(&v, row + u, 8);
      const std::uint64_t byte = (v * 0x0102040810204080ULL) >> 56;
      w[u / 64] |= byte << (u % 64);
    }
    for (; u < d; ++u) w[u / 64] |= std::uint64_t(row[u] & 1u) << (u % 64);
  }
  return out;
}

/// agree[i][j] = d - popcount(c_i xor c_j) for the upper triangle and the diagonal.
void agreement_generic(const std::uint64_t* c, int64_t b, int64_t words, int64_t d, std::vector<int64_t>& agree) {
  for (int64_t i = 0; i < b; ++i)
    for (int64_t j = i; j < b; ++j) {
      int64_t diff = 0;
      const std::uint64_t *x = c + i * words, *y = c + j * words;
      for (int64_t w = 0; w < words; ++w) diff += __builtin_popcountll(x[w] ^ y[w]);
      agree[std::size_t(i * b + j)] = d - diff;
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("popcnt"))) void agreement_popcnt(const std::uint64_t* c, int64_t b, int64_t words, int64_t d,
                                                        std::vector<int64_t>& agree) {
  for (int64_t i = 0; i < b; ++i)
    for (int64_t j = i; j < b; ++j) {
      int64_t diff = 0;
      const std::uint64_t *x = c + i * words, *y = c + j * words;
      for (int64_t w = 0; w < words; ++w) diff += __builtin_popcountll(x[w] ^ y[w]);
      agree[std::size_t(i * b + j)] = d - diff;
    }
}
#endif

/// The agreement matrix of one ReLU input (upper triangle filled, the rest 0).
std::vector<int64_t> agreement(const torch::Tensor& x) {
  const int64_t b = x.size(0);
  int64_t words = 0;
  const std::vector<std::uint64_t> c = pack_codes(x, words);
  const int64_t d = x.numel() / std::max<int64_t>(1, b);
  std::vector<int64_t> agree(std::size_t(b * b), 0);
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool has_popcnt = __builtin_cpu_supports("popcnt");
  if (has_popcnt) {
    agreement_popcnt(c.data(), b, words, d, agree);
    return agree;
  }
#endif
  agreement_generic(c.data(), b, words, d, agree);
  return agree;
}

}  // namespace

torch::Tensor naswot_kernel(nn::SupernetImpl& net, const torch::Tensor& images) {
  GNAS_CHECK(images.dim() == 4 && images.size(0) >= 1, "naswot: images must be [B, 3, H, W]");
  const int64_t b = images.size(0);
  std::vector<int64_t> k(std::size_t(b * b), 0);
  // An input seen before (a node that feeds several ops) is not packed again: its agreement is
  // added once more. The inputs are held until the pass ends, so an address is never reused.
  std::vector<std::pair<torch::Tensor, std::vector<int64_t>>> seen;
  {
    nn::ReluTap tap([&](const torch::Tensor& x) {
      GNAS_CHECK(x.size(0) == b, "naswot: a ReLU input of batch ", x.size(0), ", expected ", b);
      const std::vector<int64_t>* a = nullptr;
      for (const auto& [t, m] : seen)
        if (t.unsafeGetTensorImpl() == x.unsafeGetTensorImpl() && t.sizes() == x.sizes() &&
            t.strides() == x.strides() && t.storage_offset() == x.storage_offset())
          a = &m;
      if (!a) {
        seen.emplace_back(x, agreement(x));
        a = &seen.back().second;
      }
      for (std::size_t i = 0; i < k.size(); ++i) k[i] += (*a)[i];
    });
    torch::NoGradGuard no_grad;
    const bool was_training = net.is_training();
    net.train();
    // Channels-last convolutions: 1.75x faster on the CPU here (oneDNN), the same codes up to the
    // last digits of the activations.
    for (auto& p : net.parameters())
      if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
    net.forward(images.contiguous(torch::MemoryFormat::ChannelsLast));
    net.train(was_training);
  }
  torch::Tensor out = torch::empty({b, b}, torch::kFloat64);
  auto acc = out.accessor<double, 2>();
  for (int64_t i = 0; i < b; ++i)
    for (int64_t j = i; j < b; ++j) acc[i][j] = acc[j][i] = double(k[std::size_t(i * b + j)]);
  return out;
}

double log_abs_det(const torch::Tensor& k) {
  GNAS_CHECK(k.dim() == 2 && k.size(0) == k.size(1), "log_abs_det: a square matrix is needed");
  const int64_t n = k.size(0);
  torch::Tensor m = k.to(torch::kFloat64).contiguous().clone();
  double* a = m.data_ptr<double>();
  double log_det = 0;
  for (int64_t col = 0; col < n; ++col) {
    int64_t pivot = col;
    for (int64_t r = col + 1; r < n; ++r)
      if (std::abs(a[r * n + col]) > std::abs(a[pivot * n + col])) pivot = r;
    const double p = a[pivot * n + col];
    if (p == 0.0 || !std::isfinite(p)) return -std::numeric_limits<double>::infinity();
    if (pivot != col)
      for (int64_t c = 0; c < n; ++c) std::swap(a[pivot * n + c], a[col * n + c]);
    log_det += std::log(std::abs(p));
    for (int64_t r = col + 1; r < n; ++r) {
      const double l = a[r * n + col] / p;
      if (l == 0.0) continue;
      for (int64_t c = col; c < n; ++c) a[r * n + c] -= l * a[col * n + c];
    }
  }
  return std::isnan(log_det) ? -std::numeric_limits<double>::infinity() : log_det;
}

double naswot(nn::SupernetImpl& net, const torch::Tensor& images) { return log_abs_det(naswot_kernel(net, images)); }

double log_synflow(nn::SupernetImpl& net) {
  return log_synflow(
      net, [&net](const torch::Tensor& x) { return net.forward(x); }, {1, 3, 32, 32});
}

double log_synflow(torch::nn::Module& net, const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                   const std::vector<int64_t>& input_shape) {
  net.to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net.parameters()) {
      p.set_data(p.data().contiguous());  // float64 convolutions have no fast channels-last path
      p.abs_();
    }
  }
  for (const auto& m : net.modules(/*include_self=*/false))
    if (auto* bn = dynamic_cast<nn::BatchNormImpl*>(m.get())) bn->bypass = true;
  net.eval();  // no dropout, no drop-path; BN is bypassed in both modes
  net.zero_grad();
  const torch::Tensor x = torch::ones(input_shape, torch::kFloat64);
  forward(x).sum().backward();
  double total = 0;
  // Conv and linear weights: every parameter of two or more dimensions (BN's and biases have one;
  // the paper network's 1x1 concatenation convolutions are raw parameters, not Conv2d modules).
  for (const auto& w : net.parameters()) {
    if (w.dim() < 2 || !w.grad().defined()) continue;
    total += (w * w.grad()).abs().sum().item<double>();
  }
  if (std::isnan(total) || total <= 0) return -std::numeric_limits<double>::infinity();
  return std::log(total);  // +inf if the sum overflowed: the largest score, never NaN
}

int64_t count_parameters(const nn::SupernetImpl& net) {
  int64_t n = 0;
  for (const auto& p : net.parameters()) n += p.numel();
  return n;
}

std::uint64_t cell_seed(std::uint64_t seed, const space::Genome& g) {
  const std::uint64_t h = fnv1a64(&seed, sizeof seed);
  return fnv1a64(g.data(), g.size(), h) >> 1;  // torch's manual_seed takes any uint64; keep it positive
}

CellScores score_cell(const nn::NetworkOptions& options, const space::Genome& g, std::uint64_t seed,
                      const torch::Tensor& images, ScoreSet which) {
  nn::NetworkOptions o = options;
  o.fixed = g;
  o.dropout = 0;
  {  // the CPU generator only: torch::manual_seed would reseed the CUDA generators of a GPU run too
    at::Generator cpu = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(cpu.mutex());
    cpu.set_current_seed(cell_seed(seed, g));
  }
  nn::Supernet net = nn::make_network(o);
  net->set_drop_path_keep(1.0);
  CellScores s;
  s.params = double(count_parameters(*net));
  if (which.naswot) s.naswot = naswot(*net, images);
  if (which.synflow) s.synflow = log_synflow(*net);  // last: it changes the network
  return s;
}

Proxy::Proxy(std::vector<ScoreKind> kinds, nn::NetworkOptions net, std::uint64_t seed, torch::Tensor images)
    : kinds_(std::move(kinds)), net_(std::move(net)), seed_(seed), images_(std::move(images)), which_{false, false} {
  for (ScoreKind k : kinds_) {
    if (k == ScoreKind::kNaswot) which_.naswot = true;
    if (k == ScoreKind::kSynflow) which_.synflow = true;
  }
}

void Proxy::score(const std::vector<space::Genome>& cells, distributed::Communicator& comm,
                  const std::function<void(std::size_t, std::size_t)>& progress) {
  std::vector<space::Genome> todo;
  for (const auto& g : cells)
    if (!cache_.count(g) && std::find(todo.begin(), todo.end(), g) == todo.end()) todo.push_back(g);
  const auto remember = [&] {
    for (const auto& g : cells) asked_.emplace(g, &cache_.at(g));
  };
  if (todo.empty()) return remember();
  // Scoring reseeds torch's generator for each cell: the run's own stream continues as it was.
  at::Generator cpu = at::detail::getDefaultCPUGenerator();
  const torch::Tensor generator_state = cpu.get_state();
  // Cell i is scored by rank i % size; every other rank holds 0 there, so the sum is exact.
  const int rank = comm.rank(), size = comm.size();
  torch::Tensor values = torch::zeros({int64_t(todo.size()), 3}, torch::kFloat64);
  auto v = values.accessor<double, 2>();
  std::size_t mine = 0, mine_total = 0;
  for (std::size_t i = 0; i < todo.size(); ++i) mine_total += int(i % std::size_t(size)) == rank;
  for (std::size_t i = 0; i < todo.size(); ++i) {
    if (int(i % std::size_t(size)) != rank) continue;
    const CellScores s = score_cell(net_, todo[i], seed_, images_, which_);
    // -inf travels as a flag: -inf + 0 is -inf, but a NaN (not computed) must not meet a sum.
    v[int64_t(i)][0] = s.params;
    v[int64_t(i)][1] = std::isnan(s.naswot) ? 0.0 : s.naswot;
    v[int64_t(i)][2] = std::isnan(s.synflow) ? 0.0 : s.synflow;
    if (progress) progress(++mine, mine_total);
  }
  cpu.set_state(generator_state);
  if (size > 1) comm.allreduce_sum_(values);
  for (std::size_t i = 0; i < todo.size(); ++i) {
    CellScores s;
    s.params = v[int64_t(i)][0];
    if (which_.naswot) s.naswot = v[int64_t(i)][1];
    if (which_.synflow) s.synflow = v[int64_t(i)][2];
    cache_.emplace(todo[i], s);
  }
  remember();
}

const CellScores& Proxy::scores(const space::Genome& g) const {
  const auto it = cache_.find(g);
  GNAS_CHECK(it != cache_.end(), "Proxy: a cell was not scored");
  return it->second;
}

std::vector<float> Proxy::fitness(const std::vector<space::Genome>& cells) const {
  auto get = [](const CellScores& s, ScoreKind k) {
    return k == ScoreKind::kParams ? s.params : k == ScoreKind::kNaswot ? s.naswot : s.synflow;
  };
  std::vector<float> out;
  if (kinds_.size() == 1) {
    for (const auto& g : cells) out.push_back(float(get(scores(g), kinds_[0])));
    return out;
  }
  // Ranks among every cell asked for: a cell's rank is the number of those below it, plus
  // half the others it ties with, plus 1 (the mean rank).
  const double n = double(asked_.size());
  std::vector<std::vector<double>> sorted(kinds_.size());
  for (std::size_t k = 0; k < kinds_.size(); ++k) {
    for (const auto& [g, s] : asked_) sorted[k].push_back(get(*s, kinds_[k]));
    std::sort(sorted[k].begin(), sorted[k].end());
  }
  for (const auto& g : cells) {
    double f = 0;
    for (std::size_t k = 0; k < kinds_.size(); ++k) {
      const double x = get(scores(g), kinds_[k]);
      const auto lo = std::lower_bound(sorted[k].begin(), sorted[k].end(), x);
      const auto hi = std::upper_bound(sorted[k].begin(), sorted[k].end(), x);
      const double rank = double(lo - sorted[k].begin()) + (double(hi - lo) + 1.0) / 2.0;
      f += std::log(rank / n);
    }
    out.push_back(float(f));
  }
  return out;
}

}  // namespace gnas::fitness
