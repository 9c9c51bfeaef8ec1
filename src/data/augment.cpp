#include "gnas/data/augment.h"

#include <torch/torch.h>

#include <map>
#include <mutex>
#include <string>

#include "gnas/core/error.h"

namespace gnas::data {

const double kMean[3] = {125.3 / 255, 123.0 / 255, 113.9 / 255};
const double kStd[3] = {63.0 / 255, 62.1 / 255, 66.7 / 255};

namespace {
/// (x / 255 - mean) / std as one multiply-add per pixel, x * scale + shift (computed in double).
/// The [1, 3, 1, 1] constants are made once per device, not per batch.
const std::pair<torch::Tensor, torch::Tensor>& normalize_constants(const torch::Device& device) {
  static std::mutex mutex;
  // Never destroyed: freeing CUDA tensors during static destruction can outlive the CUDA runtime.
  static auto& cache = *new std::map<std::string, std::pair<torch::Tensor, torch::Tensor>>();
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(device.str());
  if (it == cache.end()) {
    std::vector<float> scale(3), shift(3);
    for (int ch = 0; ch < 3; ++ch) {
      scale[ch] = static_cast<float>(1.0 / (255.0 * kStd[ch]));
      shift[ch] = static_cast<float>(-kMean[ch] / kStd[ch]);
    }
    it = cache.emplace(device.str(), std::make_pair(torch::tensor(scale).view({1, 3, 1, 1}).to(device),
                                                    torch::tensor(shift).view({1, 3, 1, 1}).to(device)))
             .first;
  }
  return it->second;
}
}  // namespace

torch::Tensor normalize(const torch::Tensor& images_u8) {
  GNAS_CHECK(images_u8.dim() == 4 && images_u8.size(1) == 3, "normalize: expected [N, 3, H, W], got ",
             images_u8.sizes());
  const auto& [s, b] = normalize_constants(images_u8.device());
  return torch::addcmul(b, images_u8.to(torch::kFloat32), s);
}

AugmentDraw draw_augment(int64_t n, int pad, int64_t height, int64_t width, Rng& rng) {
  AugmentDraw d;
  for (int64_t i = 0; i < n; ++i) {
    d.dy.push_back(static_cast<int64_t>(rng.uniform_int(2 * pad + 1)));
    d.dx.push_back(static_cast<int64_t>(rng.uniform_int(2 * pad + 1)));
    d.flip.push_back(rng.bernoulli(0.5));
    d.cy.push_back(static_cast<int64_t>(rng.uniform_int(height)));
    d.cx.push_back(static_cast<int64_t>(rng.uniform_int(width)));
  }
  return d;
}

std::vector<double> normalized_black() {
  std::vector<double> v(3);
  for (int ch = 0; ch < 3; ++ch) v[ch] = -kMean[ch] / kStd[ch];
  return v;
}

torch::Tensor augment(const torch::Tensor& x, const AugmentDraw& d, int pad, int cutout,
                      const std::vector<double>& pad_fill) {
  const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  GNAS_CHECK(static_cast<int64_t>(d.dy.size()) == n, "augment: draw for ", d.dy.size(), " images, batch of ", n);
  GNAS_CHECK(pad_fill.empty() || static_cast<int64_t>(pad_fill.size()) == c, "augment: ", pad_fill.size(),
             " padding values for ", c, " channels");
  const auto dev = x.device();
  auto i64 = torch::TensorOptions().dtype(torch::kInt64);
  // All per-image choices travel to the device in one copy: rows dy, dx, flip, cy, cx.
  auto host = torch::empty({5, n}, i64);
  auto* p = host.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    p[i] = d.dy[i];
    p[n + i] = d.dx[i];
    p[2 * n + i] = d.flip[i];
    p[3 * n + i] = d.cy[i];
    p[4 * n + i] = d.cx[i];
  }
  const auto choice = upload(host, dev);
  const auto dy = choice[0], dx = choice[1], flip = choice[2], cy = choice[3], cx = choice[4];
  torch::Tensor y = x;
  if (pad > 0) {
    torch::Tensor padded;
    if (pad_fill.empty()) {
      padded = torch::constant_pad_nd(x, {pad, pad, pad, pad}, 0);
    } else {  // the fill everywhere, then the images copied into the middle (exact)
      std::vector<float> fill(pad_fill.begin(), pad_fill.end());
      padded = upload(torch::tensor(fill, x.options().device(torch::kCPU)), dev)
                   .view({1, c, 1, 1})
                   .expand({n, c, h + 2 * pad, w + 2 * pad})
                   .contiguous();
      padded.narrow(2, pad, h).narrow(3, pad, w).copy_(x);
    }
    auto ar_h = torch::arange(h, i64.device(dev)), ar_w = torch::arange(w, i64.device(dev));
    auto rows = (dy.view({n, 1, 1, 1}) + ar_h.view({1, 1, h, 1})).expand({n, c, h, w + 2 * pad});
    y = padded.gather(2, rows);
    auto cols = (dx.view({n, 1, 1, 1}) + ar_w.view({1, 1, 1, w})).expand({n, c, h, w});
    y = y.gather(3, cols);
  }
  y = torch::where(flip.to(torch::kBool).view({n, 1, 1, 1}), y.flip({3}), y);
  if (cutout > 0) {
    const int64_t lo = cutout / 2, hi = cutout - cutout / 2;
    auto ar_h = torch::arange(h, i64.device(dev)).view({1, h, 1});
    auto ar_w = torch::arange(w, i64.device(dev)).view({1, 1, w});
    auto in_rows = (ar_h >= cy.view({n, 1, 1}) - lo) & (ar_h < cy.view({n, 1, 1}) + hi);
    auto in_cols = (ar_w >= cx.view({n, 1, 1}) - lo) & (ar_w < cx.view({n, 1, 1}) + hi);
    auto keep = (~(in_rows & in_cols)).to(y.scalar_type()).unsqueeze(1);  // [n, 1, h, w]
    y = y * keep;
  }
  return y;
}

torch::Tensor upload(const torch::Tensor& host, const torch::Device& device) {
  if (!device.is_cuda()) return host.to(device);
  return host.pin_memory().to(device, /*non_blocking=*/true);
}

}  // namespace gnas::data
