#pragma once
// Test helper: the checks every search log must pass, whatever the number of ranks: the layout,
// and each population row against an independent oracle of steady-state no-duplicate replacement.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <utility>
#include <sstream>
#include <vector>

#include "gnas/io/log_schema.h"
#include "support/h5_reader.h"

namespace gnas::testing {

struct SearchLogShape {
  int epochs = 2;
  int generations_per_epoch = 2;
  int population = 4;   ///< N_p
  int generation = 6;   ///< N_g
  int world_size = 1;
  int genome_length = 60;
  int n_rank = 0;    ///< cells of the nb201 ranking set (0: the log has no /nb201 group)
  int rankings = 0;  ///< scorings of the ranking set
  /// Training steps per epoch and --log.every_steps (0: a tenth of an epoch): the /step rows' count
  /// is checked when steps_per_epoch > 0, their consistency always.
  int steps_per_epoch = 0, every_steps = 0;
};

/// The /step rows of a run of `epochs` epochs of `steps` steps, one every `every` (0: a tenth of an
/// epoch) and at each epoch's last step; and the /epoch time split and evaluation losses.
inline void check_step_rows(const H5& h, int epochs, int steps, int every, bool search) {
  const auto global = h.read<int>("/step/step", H5T_NATIVE_INT);
  const auto epoch = h.read<int>("/step/epoch", H5T_NATIVE_INT);
  const auto loss = h.read<double>("/step/loss", H5T_NATIVE_DOUBLE);
  const auto acc = h.read<double>("/step/acc", H5T_NATIVE_DOUBLE);
  const auto lr = h.read<double>("/step/lr", H5T_NATIVE_DOUBLE);
  const auto img_s = h.read<double>("/step/img_s", H5T_NATIVE_DOUBLE);
  const auto epoch_lr = h.read<double>("/epoch/lr", H5T_NATIVE_DOUBLE);
  ASSERT_FALSE(global.empty()) << "no /step rows";
  for (const auto* column : {&loss, &acc, &lr, &img_s}) ASSERT_EQ(column->size(), global.size());
  ASSERT_EQ(epoch.size(), global.size());
  EXPECT_EQ(epoch.back(), epochs);
  const int per_epoch = global.back() / epochs;  // the steps of an epoch, from the last row
  if (steps > 0) {
    EXPECT_EQ(per_epoch, steps);
    const int k = every > 0 ? every : std::max(1, steps / 10);
    const int rows_per_epoch = steps / k + (steps % k != 0);
    EXPECT_EQ(global.size(), std::size_t(epochs * rows_per_epoch)) << "every " << k << " of " << steps << " steps";
  }
  for (std::size_t i = 0; i < global.size(); ++i) {
    if (i > 0) {
      EXPECT_GT(global[i], global[i - 1]) << "row " << i;
    }
    EXPECT_EQ(epoch[i], (global[i] - 1) / per_epoch + 1) << "row " << i;
    EXPECT_TRUE(loss[i] > 0 && loss[i] < 100) << "row " << i << ": loss " << loss[i];
    EXPECT_TRUE(acc[i] >= 0 && acc[i] <= 100) << "row " << i << ": acc " << acc[i];
    EXPECT_EQ(lr[i], epoch_lr.at(std::size_t(epoch[i] - 1))) << "row " << i;
    EXPECT_GT(img_s[i], 0) << "row " << i;
    const bool last = i + 1 == global.size() || epoch[i + 1] != epoch[i];
    if (last) {
      EXPECT_EQ(global[i], epoch[i] * per_epoch) << "an epoch's last step has a row";
    }
  }
  const auto time = h.read<double>("/epoch/time_s", H5T_NATIVE_DOUBLE);
  const auto train = h.read<double>("/epoch/train_time_s", H5T_NATIVE_DOUBLE);
  const auto eval = h.read<double>("/epoch/eval_time_s", H5T_NATIVE_DOUBLE);
  const auto val_loss = h.read<double>("/epoch/best_full_val_loss", H5T_NATIVE_DOUBLE);
  const auto test_loss = h.read<double>("/epoch/test_loss", H5T_NATIVE_DOUBLE);
  for (std::size_t e = 0; e < time.size(); ++e) {
    EXPECT_GT(train[e], 0) << "epoch " << e + 1;
    EXPECT_GT(eval[e], 0) << "epoch " << e + 1;
    EXPECT_LT(train[e], time[e]) << "epoch " << e + 1;
    EXPECT_EQ(std::isfinite(val_loss[e]), search) << "epoch " << e + 1;
    EXPECT_EQ(std::isfinite(test_loss[e]), !search) << "epoch " << e + 1;
    EXPECT_GT(search ? val_loss[e] : test_loss[e], 0) << "epoch " << e + 1;
  }
}

/// Checks the search log at `path`; returns the final population (genome, fitness), best first.
inline std::vector<std::pair<std::vector<uint8_t>, float>> check_search_log(const std::string& path,
                                                                             const SearchLogShape& s) {
  using Genes = std::vector<uint8_t>;
  std::vector<std::pair<Genes, float>> previous;
  const H5 h(path);
  EXPECT_GE(h.file, 0) << path << " does not open";
  if (h.file < 0) return previous;
  for (const char* a : {"format_version", "command", "config", "version", "seed", "world_size", "dataset", "started_at"})
    EXPECT_TRUE(h.has_attr(a)) << a;
  EXPECT_EQ(h.attr_int("format_version"), io::kLogFormatVersion);
  // format_version 2: UTF-8 text, the op table, the status, a config any INI reader takes.
  EXPECT_TRUE(h.text_attrs_are_utf8());
  for (const char* a : {"op_names", "genome_layout", "status", "segments", "epochs_planned", "host", "git_commit"})
    EXPECT_TRUE(h.has_attr(a)) << a;
  {
    std::istringstream config(h.attr_string("config"));
    std::string line;
    while (std::getline(config, line) && (line.empty() || line[0] == '#')) {
    }
    EXPECT_EQ(line, "[run]") << "the config's first key must be inside a section";
  }
  EXPECT_EQ(h.attr_int("world_size"), s.world_size);
  const auto epochs = static_cast<hsize_t>(s.epochs);
  const auto rows = static_cast<hsize_t>(s.epochs * s.generations_per_epoch);
  const auto np = static_cast<std::size_t>(s.population), ng = static_cast<std::size_t>(s.generation);
  const auto len = static_cast<std::size_t>(s.genome_length);
  // Every dataset of the log schema, with its shape, units and description.
  EXPECT_EQ(h.has_link("/nb201"), s.n_rank > 0);
  for (const auto& d : io::log_schema()) {
    if (io::log_in_nb201(d) && s.n_rank == 0) continue;
    std::vector<hsize_t> shape;
    const auto step_rows = h.shape("/step/step").empty() ? hsize_t(0) : h.shape("/step/step")[0];
    if (d.rows != io::LogRows::kFixed)
      shape.push_back(d.rows == io::LogRows::kEpoch    ? epochs
                      : d.rows == io::LogRows::kRanking ? hsize_t(s.rankings)
                      : d.rows == io::LogRows::kStep    ? step_rows  // counted by check_step_rows
                                                        : rows);
    for (auto n : io::log_inner_dims(d.inner, s.genome_length, s.generation, s.population, s.n_rank))
      shape.push_back(n);
    EXPECT_EQ(h.shape(d.path), shape) << d.path;
    EXPECT_EQ(h.dataset_attr_string(d.path, "units"), d.units) << d.path;
    EXPECT_EQ(h.dataset_attr_string(d.path, "description"), d.description) << d.path;
    // Each axis carries the dimension scale the schema names; scales number their rows.
    std::istringstream dims(d.dims);
    std::string dim;
    for (unsigned axis = 0; !io::log_is_scale(d) && dims >> dim; ++axis)
      EXPECT_EQ(h.dimension_name(d.path, axis), dim) << d.path << " axis " << axis;
    if (io::log_is_scale(d) && d.rows != io::LogRows::kStep) {  // /step/step: global step numbers
      const auto values = h.read<int>(d.path, H5T_NATIVE_INT);
      const int first = d.rows == io::LogRows::kFixed ? 0 : 1;
      for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(values[i], first + int(i)) << d.path;
    }
  }
  if (::testing::Test::HasFailure()) return previous;
  check_step_rows(h, s.epochs, s.steps_per_epoch, s.every_steps, true);

  const auto gen = h.read<uint8_t>("/ga/generation/genome", H5T_NATIVE_UINT8);
  const auto gen_fit = h.read<float>("/ga/generation/fitness", H5T_NATIVE_FLOAT);
  const auto pop = h.read<uint8_t>("/ga/population/genome", H5T_NATIVE_UINT8);
  const auto pop_fit = h.read<float>("/ga/population/fitness", H5T_NATIVE_FLOAT);
  const auto rescored = h.read<float>("/ga/population/rescored_fitness", H5T_NATIVE_FLOAT);
  const auto gen_epoch = h.read<int>("/ga/generation/epoch", H5T_NATIVE_INT);
  for (std::size_t g = 0; g < rows; ++g) EXPECT_EQ(gen_epoch[g], int(g) / s.generations_per_epoch) << "row " << g;
  for (float f : gen_fit) {
    EXPECT_GE(f, 0.f);
    EXPECT_LE(f, 100.f);
  }
  auto genome = [&](const std::vector<uint8_t>& flat, std::size_t row, std::size_t n, std::size_t i) {
    auto b = flat.begin() + static_cast<long>((row * n + i) * len);
    return Genes(b, b + static_cast<long>(len));
  };
  for (std::size_t g = 0; g < rows; ++g) {
    std::set<Genes> unique;
    std::vector<std::pair<Genes, float>> current;
    for (std::size_t i = 0; i < np; ++i) {
      current.emplace_back(genome(pop, g, np, i), pop_fit[g * np + i]);
      EXPECT_TRUE(unique.insert(current.back().first).second) << "duplicate genome in population row " << g;
    }
    // Oracle: the top N_p of (previous population, then this generation), unique, incumbents first on
    // ties. --search.rescore population: the incumbents compete with their re-scored fitness.
    std::vector<std::pair<Genes, float>> pool = previous;
    for (std::size_t i = 0; i < pool.size(); ++i)
      if (!std::isnan(rescored[g * np + i])) pool[i].second = rescored[g * np + i];
    if (g == 0) {
      for (std::size_t i = 0; i < np; ++i) EXPECT_TRUE(std::isnan(rescored[i])) << "no population before row 0";
    }
    std::set<Genes> seen;
    for (auto& p : pool) seen.insert(p.first);
    for (std::size_t i = 0; i < ng; ++i) {
      Genes x = genome(gen, g, ng, i);
      if (seen.insert(x).second) pool.emplace_back(x, gen_fit[g * ng + i]);
    }
    std::stable_sort(pool.begin(), pool.end(), [](auto& a, auto& b) { return a.second > b.second; });
    pool.resize(np);
    EXPECT_EQ(current, pool) << "population row " << g << " is not the top-N_p of P u G";
    previous = current;
  }
  // /best is the population's best at the end of the epoch with the highest full-validation
  // accuracy (the earliest such epoch on a tie), not simply the last epoch's.
  const auto full_val = h.read<double>("/epoch/best_full_val_acc", H5T_NATIVE_DOUBLE);
  const auto best_epoch = static_cast<std::size_t>(std::max_element(full_val.begin(), full_val.end()) - full_val.begin());
  const std::size_t best_row = (best_epoch + 1) * std::size_t(s.generations_per_epoch) - 1;  // its last generation
  const auto best = h.read<uint8_t>("/best/genome", H5T_NATIVE_UINT8);
  EXPECT_EQ(Genes(best.begin(), best.end()), genome(pop, best_row, np, 0)) << "best epoch " << best_epoch + 1;
  const auto best_fit = h.read<float>("/best/fitness", H5T_NATIVE_FLOAT);
  EXPECT_EQ(best_fit[0], pop_fit[best_row * np]);
  const auto loss = h.read<double>("/epoch/train_loss", H5T_NATIVE_DOUBLE);
  for (double l : loss) EXPECT_TRUE(l > 0 && l < 100) << "train_loss " << l;
  // n_new: the members each replacement inserted (recounted here from consecutive population rows),
  // per generation, and summed over an epoch's generations (paper Fig. 12).
  EXPECT_EQ(h.shape("/ga/generation/n_new"), std::vector<hsize_t>({rows}));
  const auto gen_new = h.read<int>("/ga/generation/n_new", H5T_NATIVE_INT);
  std::set<Genes> before;
  std::vector<int> per_epoch(std::size_t(s.epochs), 0);
  for (std::size_t g = 0; g < rows; ++g) {
    std::set<Genes> now;
    int inserted = 0;
    for (std::size_t i = 0; i < np; ++i) {
      now.insert(genome(pop, g, np, i));
      inserted += before.count(genome(pop, g, np, i)) == 0;
    }
    EXPECT_EQ(gen_new[g], inserted) << "generation row " << g;
    per_epoch[g / std::size_t(s.generations_per_epoch)] += inserted;
    before = now;
  }
  const auto n_new = h.read<int>("/epoch/n_new", H5T_NATIVE_INT);
  EXPECT_EQ(n_new, per_epoch);
  EXPECT_GE(n_new[0], s.population);  // the first population is all new
  return previous;
}

}  // namespace gnas::testing
