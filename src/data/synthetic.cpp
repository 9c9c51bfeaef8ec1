// The embedded synthetic data set: 10 classes of 32x32 RGB images, made procedurally so that
// gnas runs anywhere without a download. Each class is a shape (disk, ring, square, triangle,
// three stripe directions, checkerboard, plus, cross) drawn in a class-tinted colour with colour,
// position, size and phase jitter over a random background, plus Gaussian pixel noise. One in four
// images takes a random colour, so the shape, not only the colour, must be learned.
#include <cmath>

#include "gnas/core/rng.h"
#include "gnas/data/dataset.h"
#include <torch/torch.h>

namespace gnas::data {
namespace {

const char* const kShapeNames[10] = {"disk", "ring", "square", "triangle", "h_stripes",
                                     "v_stripes", "d_stripes", "checker", "plus", "cross"};
const float kPalette[10][3] = {{230, 60, 60},  {60, 200, 70},  {70, 90, 230},  {230, 210, 60}, {200, 70, 210},
                               {60, 210, 210}, {240, 140, 40}, {150, 150, 150}, {140, 80, 30}, {250, 250, 250}};

double gaussian(Rng& rng) {
  const double u1 = std::max(rng.uniform01(), 1e-12), u2 = rng.uniform01();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

/// Coverage in {0, 1} of pixel (x, y) by the shape of class `cls` centred at (cx, cy) with size r.
bool covered(int cls, double x, double y, double cx, double cy, double r, double phase) {
  const double dx = x - cx, dy = y - cy;
  const double d = std::sqrt(dx * dx + dy * dy);
  const double period = std::max(3.0, r / 1.5);
  const bool inside_box = std::fabs(dx) <= r && std::fabs(dy) <= r;
  switch (cls) {
    case 0: return d <= r;
    case 1: return d <= r && d >= 0.55 * r;
    case 2: return std::fabs(dx) <= 0.8 * r && std::fabs(dy) <= 0.8 * r;
    case 3: return dy <= 0.8 * r && dy >= -r && std::fabs(dx) <= (dy + r) * 0.55;
    case 4: return inside_box && std::fmod(y + phase + 64, period) < period / 2;
    case 5: return inside_box && std::fmod(x + phase + 64, period) < period / 2;
    case 6: return inside_box && std::fmod(x + y + phase + 128, period * 1.4) < period * 0.7;
    case 7: return inside_box && ((int(std::floor((x + phase) / period)) + int(std::floor((y + phase) / period))) & 1);
    case 8: return (std::fabs(dx) <= 0.25 * r && std::fabs(dy) <= r) || (std::fabs(dy) <= 0.25 * r && std::fabs(dx) <= r);
    default: return inside_box && (std::fabs(dx - dy) <= 0.3 * r || std::fabs(dx + dy) <= 0.3 * r);
  }
}

Split make_split(int n, Rng& rng) {
  constexpr int kSide = 32;
  std::vector<uint8_t> pixels(static_cast<std::size_t>(n) * 3 * kSide * kSide);
  std::vector<int64_t> labels(n);
  for (int i = 0; i < n; ++i) {
    const int cls = static_cast<int>(rng.uniform_int(10));
    labels[i] = cls;
    float fg[3], bg[3], grad[3];
    const bool random_colour = rng.bernoulli(0.25);
    for (int ch = 0; ch < 3; ++ch) {
      fg[ch] = random_colour ? float(40 + rng.uniform_int(216)) : kPalette[cls][ch] + float(rng.uniform_int(61)) - 30.f;
      bg[ch] = float(rng.uniform_int(110));
      grad[ch] = float(rng.uniform_int(41)) - 20.f;
    }
    const double r = 6.0 + rng.uniform01() * 5.0;
    const double cx = 15.5 + (rng.uniform01() - 0.5) * 10.0;
    const double cy = 15.5 + (rng.uniform01() - 0.5) * 10.0;
    const double phase = rng.uniform01() * 8.0;
    const double noise = 8.0 + rng.uniform01() * 10.0;
    uint8_t* img = &pixels[static_cast<std::size_t>(i) * 3 * kSide * kSide];
    for (int y = 0; y < kSide; ++y)
      for (int x = 0; x < kSide; ++x) {
        const bool on = covered(cls, x, y, cx, cy, r, phase);
        for (int ch = 0; ch < 3; ++ch) {
          double v = on ? fg[ch] : bg[ch] + grad[ch] * (y - 15.5) / 16.0;
          v += noise * gaussian(rng);
          img[(ch * kSide + y) * kSide + x] = static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
        }
      }
  }
  Split s;
  s.images = torch::from_blob(pixels.data(), {n, 3, kSide, kSide}, torch::kUInt8).clone();
  s.labels = torch::from_blob(labels.data(), {n}, torch::kInt64).clone();
  return s;
}

}  // namespace

Dataset make_synthetic(int n_train, int n_val, int n_test, std::uint64_t seed) {
  Dataset d;
  d.name = "synthetic10";
  d.num_classes = 10;
  d.class_names.assign(std::begin(kShapeNames), std::end(kShapeNames));
  Rng train_rng(seed, 101), val_rng(seed, 102), test_rng(seed, 103);  // split sizes do not shift each other
  d.train = make_split(n_train, train_rng);
  d.val = make_split(n_val, val_rng);
  d.test = make_split(n_test, test_rng);
  return d;
}

}  // namespace gnas::data
