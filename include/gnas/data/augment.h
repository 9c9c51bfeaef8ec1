#pragma once
/// Batched data preparation on the training device (DESIGN §5): normalization, pad-4 random crop,
/// horizontal flip, cutout. The random choices are drawn on the host from gnas::Rng (a few ints
/// per image), so a seed gives the same batches on any device.
#include <cstdint>
#include <torch/types.h>
#include <vector>

#include "gnas/core/rng.h"

namespace gnas::data {

/// CIFAR per-channel mean and std, in [0, 1] units: (125.3, 123.0, 113.9)/255, (63.0, 62.1, 66.7)/255.
extern const double kMean[3];
extern const double kStd[3];

/// uint8 [N, 3, H, W] -> float32 (x / 255 - mean) / std.
torch::Tensor normalize(const torch::Tensor& images_u8);

/// Per-image random choices for one batch.
struct AugmentDraw {
  std::vector<int64_t> dy, dx;      ///< crop offsets into the padded image, in [0, 2 * pad]
  std::vector<uint8_t> flip;        ///< 1: mirror horizontally
  std::vector<int64_t> cy, cx;      ///< cutout centres in [0, H) x [0, W)
};
AugmentDraw draw_augment(int64_t n, int pad, int64_t height, int64_t width, Rng& rng);

/// The value of a black (0, 0, 0) pixel after normalize(): -mean / std per channel.
std::vector<double> normalized_black();

/// x: float [N, C, H, W] -> same shape. Padding by `pad` with `pad_fill` (one value per channel;
/// empty: zeros), crop at (dy, dx), flip, then a cutout x cutout hole centred at (cy, cx), clipped
/// at the borders, set to 0 (cutout 0: none). Training batches pad with normalized_black(), as the
/// authors pad black pixels before normalisation.
torch::Tensor augment(const torch::Tensor& x, const AugmentDraw& draw, int pad, int cutout,
                      const std::vector<double>& pad_fill = {});

/// A small host tensor on `device` without blocking the host: pinned and copied asynchronously
/// when the device is CUDA (a pageable copy would wait for the device's queued work every step);
/// the CPU tensor itself otherwise.
torch::Tensor upload(const torch::Tensor& host, const torch::Device& device);

}  // namespace gnas::data
