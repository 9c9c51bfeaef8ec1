// gnas score: training-free scores of a list of cells, written row by row to a score table.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>

#include "gnas/core/error.h"
#include "gnas/core/rng.h"
#include "gnas/core/stats.h"
#include "gnas/data/augment.h"
#include "gnas/data/dataset.h"
#include "gnas/fitness/score_table.h"
#include "gnas/fitness/training_free.h"
#include "gnas/io/files.h"
#include "gnas/space/nb201.h"
#include "gnas/space/space.h"
#include "gnas/train/batches.h"
#include "gnas/train/device.h"
#include "gnas/train/entry_points.h"

namespace gnas::train {

namespace {

namespace nb = space::nb201;

std::string duration_text(double s) {
  std::ostringstream o;
  if (s < 120) {
    o << int(s + 0.5) << " s";
  } else if (s < 7200) {
    o << int(s / 60) << " min " << int(std::fmod(s, 60.0)) << " s";
  } else {
    o << std::fixed << std::setprecision(1) << s / 3600 << " h";
  }
  return o.str();
}

/// The cells --cells names, in scoring order.
std::vector<space::Genome> list_cells(const ScoreRequest& q, const space::Space& sp, const std::optional<nb::Table>& table) {
  std::vector<space::Genome> out;
  const auto colon = q.cells.find(':');
  const std::string kind = q.cells.substr(0, colon);
  if (q.cells == "all") {
    for (int c = 0; c < nb::kCells; ++c) out.push_back(nb::decode(c));
  } else if (colon != std::string::npos && kind == "stratified") {
    Rng rng(q.seed, 3);  // the draw of --nb201.rank_cells: a search of this seed ranks the same cells
    for (int code : nb::ranking_set(*table, std::stoi(q.cells.substr(colon + 1)), rng)) out.push_back(nb::decode(code));
  } else if (colon != std::string::npos && kind == "random") {
    const long n = std::stol(q.cells.substr(colon + 1));
    Rng rng(q.seed, 4);
    std::set<space::Genome> seen;
    if (sp.name() == "nb201") {
      GNAS_CHECK_AS(ConfigError, n <= nb::kCells, "--cells ", q.cells, ": NAS-Bench-201 has ", nb::kCells, " cells");
      for (int64_t code : sample_without_replacement(nb::kCells, n, rng)) out.push_back(nb::decode(int(code)));
    } else {
      for (long tries = 0; long(out.size()) < n; ++tries) {
        GNAS_CHECK_AS(ConfigError, tries < 1000 * n, "--cells ", q.cells, ": cannot draw that many distinct genomes");
        space::Genome g(std::size_t(sp.length()));
        for (int i = 0; i < sp.length(); ++i) g[std::size_t(i)] = std::uint8_t(rng.uniform_int(sp.genes().gene_range(i)));
        if (seen.insert(g).second) out.push_back(g);
      }
    }
  } else {
    std::istringstream in(io::read_file(q.cells));
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos || line[line.find_first_not_of(" \t")] == '#') continue;
      try {
        out.push_back(space::load_genome(sp, line));
      } catch (const std::exception& e) {
        throw ConfigError(q.cells + ":" + std::to_string(line_no) + ": " + e.what());
      }
    }
    GNAS_CHECK_AS(ConfigError, !out.empty(), "--cells ", q.cells, ": the file lists no genome");
    std::set<space::Genome> seen;  // a cell listed twice is scored once
    std::vector<space::Genome> unique;
    for (auto& g : out)
      if (seen.insert(g).second) unique.push_back(std::move(g));
    out = std::move(unique);
  }
  return out;
}

std::string arch_of(const space::Space& sp, const space::Genome& g) {
  const std::string b = sp.benchmark_string(g);
  return b.empty() ? sp.to_text(g) : b;
}

/// Each score's rank correlation with the table, over the table's rows.
void print_ranking(const fitness::ScoreTable& all, const nb::Table& table) {
  std::vector<double> valid, test;
  std::vector<const fitness::ScoreRow*> rows;
  fitness::ScoreTable t = all;  // the rows of NAS-Bench-201 cells
  t.rows.clear();
  for (const auto& r : all.rows) {
    space::Genome g;
    if (!nb::parse_arch(r.arch, g).empty()) continue;
    t.rows.push_back(r);
    valid.push_back(table.valid_of(g));
    test.push_back(table.test_of(g));
  }
  for (const auto& r : t.rows) rows.push_back(&r);
  std::cout << "ranking of " << rows.size() << " cells against the table (" << table.path << "):\n"
            << "score                  tau(valid)  rho(valid)  tau(test)  rho(test)\n";
  for (const auto& [name, kind] : fitness::kScoreKinds) {
    std::vector<double> x;
    for (const auto* r : rows) x.push_back(r->get(kind));
    bool computed = !x.empty();
    for (double v : x) computed = computed && !std::isnan(v);
    if (!computed) continue;
    char line[160];
    std::snprintf(line, sizeof line, "%-21s  %9.3f  %10.3f  %9.3f  %9.3f%s\n", name, kendall_tau(x, valid),
                  spearman_rho(x, valid), kendall_tau(x, test), spearman_rho(x, test),
                  kind == fitness::ScoreKind::kParams ? "   (the floor: a score should beat this)" : "");
    std::cout << line;
  }
  // The combined scores (sums of log-ranks among these cells), when their parts are all computed.
  for (const char* combo : {"naswot+synflow", "naswot+synflow+params"}) {
    std::vector<double> x;
    try {
      x = fitness::combined_fitness(t, fitness::parse_score_list(combo, "fitness"));
    } catch (const DataError&) {
      continue;  // a part not computed
    }
    char line[160];
    std::snprintf(line, sizeof line, "%-21s  %9.3f  %10.3f  %9.3f  %9.3f\n", combo, kendall_tau(x, valid),
                  spearman_rho(x, valid), kendall_tau(x, test), spearman_rho(x, test));
    std::cout << line;
  }
  std::cout << std::flush;
}

}  // namespace

using fitness::ScoreRow;
using fitness::ScoreTable;

int run_score(const ScoreRequest& q) {
  apply_threads(q.threads);
  const auto sp = space::make_space(q.space, q.blocks);
  std::optional<nb::Table> table;
  if (!q.table.empty()) table = nb::load_table(q.table);
  const std::vector<space::Genome> cells = list_cells(q, *sp, table);
  fitness::ScoreSet which{false, false};
  {
    std::istringstream in(q.scores);
    std::string s;
    while (std::getline(in, s, ',')) (s == "naswot" ? which.naswot : which.synflow) = true;
  }
  data::DataOptions dopt;
  dopt.dir = q.data;
  dopt.train_limit = q.train_limit;
  dopt.val_size = q.val_size;
  data::Dataset ds = data::load_dataset(dopt, /*need_test=*/false);
  GNAS_CHECK_AS(ConfigError, q.batch <= ds.train.size(), "--score.batch ", q.batch, " is larger than the training split (",
                ds.train.size(), " images)");
  Rng image_rng(q.seed, 5);
  const auto index = sample_without_replacement(ds.train.size(), q.batch, image_rng);
  const torch::Tensor images = data::normalize(ds.train.images.index_select(0, torch::tensor(index, torch::kInt64)));

  fitness::ScoreSetup setup;
  setup.space = sp->name();
  setup.channels = q.channels;
  setup.cells = q.net_cells;
  setup.blocks = q.blocks;
  setup.batch = q.batch;
  setup.seed = q.seed;
  setup.data = ds.name;
  setup.train_images = ds.train.size();

  // --out: a new table, or the same setup's table continued (a crash loses at most one row).
  std::set<std::string> done;
  std::size_t keep_bytes = 0;
  if (io::path_exists(q.out)) {
    GNAS_CHECK_AS(ConfigError, std::filesystem::is_regular_file(q.out), "--out ", q.out, " exists and is not a regular file");
    std::optional<ScoreTable> old;
    std::string why;
    try {
      old = fitness::read_score_table(q.out);
      why = old->setup.difference(setup);
      if (!why.empty()) why = "was scored with " + why;
    } catch (const DataError& e) {
      why = std::string("is not a score table this command can continue: ") + e.what();
    }
    if (why.empty())
      for (const auto& r : old->rows)
        if ((which.naswot && std::isnan(r.naswot)) || (which.synflow && std::isnan(r.synflow))) {
          why = "holds cells without a score asked for now (" + r.arch + ": --scores " + q.scores +
                "); score them into a new --out";
          break;
        }
    if (why.empty()) {
      for (const auto& r : old->rows) done.insert(r.arch);
      keep_bytes = old->valid_bytes;
    } else {
      GNAS_CHECK_AS(ConfigError, q.force, "--out ", q.out, " ", why, "; choose another --out, or give --force to replace it");
    }
  }
  if (keep_bytes == 0) {
    io::write_file_atomic(q.out, fitness::score_table_header(setup));
  } else if (std::filesystem::file_size(q.out) != keep_bytes) {
    std::filesystem::resize_file(q.out, keep_bytes);  // a row cut off by a crash
  }
  std::ofstream out(q.out, std::ios::app | std::ios::binary);
  GNAS_CHECK_AS(IoError, out.good(), "cannot append to ", q.out);

  nn::NetworkOptions net;
  net.space = sp->name();
  net.channels = q.channels;
  net.cells = q.net_cells;
  net.blocks = q.blocks;
  net.num_classes = ds.num_classes;
  std::vector<space::Genome> todo;
  for (const auto& g : cells)
    if (!done.count(arch_of(*sp, g))) todo.push_back(g);
  std::cout << "gnas score: " << todo.size() << " of " << cells.size() << " cells to score"
            << (done.empty() ? "" : " (the rest are in " + q.out + " already)") << "; " << sp->name()
            << " fixed networks C=" << q.channels << " N=" << q.net_cells << " at initialisation, NASWOT on "
            << q.batch << " " << ds.name << " training images, " << q.threads << " thread(s) -> " << q.out << "\n"
            << std::flush;
  const auto t0 = std::chrono::steady_clock::now();
  auto last = t0;
  for (std::size_t i = 0; i < todo.size(); ++i) {
    const auto s = fitness::score_cell(net, todo[i], q.seed, images, which);
    ScoreRow row;
    row.arch = arch_of(*sp, todo[i]);
    row.params = s.params;
    row.naswot = s.naswot;
    row.synflow = s.synflow;
    out << fitness::score_row_line(row) << std::flush;
    GNAS_CHECK_AS(IoError, out.good(), "writing ", q.out, " failed (disk full?); the rows before this one are kept: "
                  "run the same command again to continue");
    const auto now = std::chrono::steady_clock::now();
    if (q.progress && (std::chrono::duration<double>(now - last).count() >= 30 || i + 1 == todo.size() || i == 1)) {
      last = now;
      const double el = std::chrono::duration<double>(now - t0).count();
      std::cout << "scored " << i + 1 << "/" << todo.size() << " cells in " << duration_text(el) << " ("
                << std::fixed << std::setprecision(2) << double(i + 1) / el << " cells/s), about "
                << duration_text(el / double(i + 1) * double(todo.size() - i - 1)) << " left\n"
                << std::defaultfloat << std::flush;
    }
  }
  out.close();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!todo.empty())
    std::cout << std::fixed << std::setprecision(2) << "speed: " << double(todo.size()) / seconds << " cells/s ("
              << todo.size() << " cells in " << seconds << " s; " << q.scores << " at C=" << q.channels
              << " N=" << q.net_cells << ", batch " << q.batch << ", " << q.threads << " thread(s))\n"
              << std::defaultfloat;
  if (table) print_ranking(fitness::read_score_table(q.out), *table);
  std::cout << "wrote " << q.out << " (" << cells.size() << " cells); search it with: gnas tabular --table "
            << (q.table.empty() ? "CSV" : q.table) << " --scores " << q.out << " --fitness naswot\n";
  return kExitOk;
}

}  // namespace gnas::train
