#include "gnas/core/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace gnas {
namespace {
void check_sizes(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) throw std::invalid_argument("rank correlation of vectors of different sizes");
}
}  // namespace

double kendall_tau(const std::vector<double>& x, const std::vector<double>& y) {
  check_sizes(x, y);
  const std::size_t n = x.size();
  if (n < 2) return std::nan("");
  // O(n^2): the sets ranked here have a few hundred items at most.
  double concordant = 0, discordant = 0, ties_x = 0, ties_y = 0, pairs = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) {
      // Signs by comparison, not by difference: -inf - -inf is NaN (training-free scores hold -inf).
      const int dx = (x[i] > x[j]) - (x[i] < x[j]), dy = (y[i] > y[j]) - (y[i] < y[j]);
      pairs += 1;
      if (dx == 0) ties_x += 1;
      if (dy == 0) ties_y += 1;
      if (dx == 0 || dy == 0) continue;
      dx == dy ? concordant += 1 : discordant += 1;
    }
  const double denom = std::sqrt((pairs - ties_x) * (pairs - ties_y));
  return denom > 0 ? (concordant - discordant) / denom : std::nan("");
}

std::vector<double> mean_ranks(const std::vector<double>& x) {
  std::vector<std::size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  std::vector<double> rank(x.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && x[order[j + 1]] == x[order[i]]) ++j;
    const double mean = (double(i) + double(j)) / 2 + 1;
    for (std::size_t k = i; k <= j; ++k) rank[order[k]] = mean;
    i = j + 1;
  }
  return rank;
}

double spearman_rho(const std::vector<double>& x, const std::vector<double>& y) {
  check_sizes(x, y);
  const std::size_t n = x.size();
  if (n < 2) return std::nan("");
  const auto rx = mean_ranks(x), ry = mean_ranks(y);
  const double mean = (double(n) + 1) / 2;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxy += (rx[i] - mean) * (ry[i] - mean);
    sxx += (rx[i] - mean) * (rx[i] - mean);
    syy += (ry[i] - mean) * (ry[i] - mean);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : std::nan("");
}

}  // namespace gnas
