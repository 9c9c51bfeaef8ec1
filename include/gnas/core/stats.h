#pragma once
/// Rank correlations, for how well one score orders items against another (a supernet's scores
/// against a benchmark's accuracies). Plain C++.
#include <vector>

namespace gnas {

/// Kendall's tau-b of x against y (ties in either handled as tau-b does). NaN when fewer than 2
/// items, or when x or y is constant. Throws std::invalid_argument when the sizes differ.
double kendall_tau(const std::vector<double>& x, const std::vector<double>& y);
/// Spearman's rho: the Pearson correlation of the ranks, tied values getting their mean rank. NaN
/// when fewer than 2 items or when x or y is constant.
double spearman_rho(const std::vector<double>& x, const std::vector<double>& y);
/// Mean ranks (1-based; tied values share the mean of their positions).
std::vector<double> mean_ranks(const std::vector<double>& x);

}  // namespace gnas
