// io: the HDF5 run log at its own seam (no gnas process, no torch): what is appended is what a
// reader finds, a record that fails half-way leaves no partial row, and a log rebuilt from its
// in-memory content (a checkpoint's copy) equals the original.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "gnas/core/error.h"
#include "gnas/io/config_keys.h"
#include "gnas/io/hdf5_log.h"
#include "gnas/io/log_reader.h"
#include "support/h5_reader.h"
#include "support/process.h"

namespace gnas::io {
namespace {

using gnas::testing::H5;

constexpr int kLength = 6, kNg = 3, kNp = 4;

LogAttributes attributes() {
  LogAttributes a;
  a.command = "search";
  a.config = "seed = 7\n[ga]\npopulation = 4\n";
  a.version = "test";
  a.seed = 7;
  a.dataset = "synthetic10";
  a.started_at = "2026-01-01T00:00:00Z";
  a.strategy = "ga";
  a.space = "nb201";
  a.op_names = {"none", "skip", "conv1", "conv3", "pool"};
  a.status.status = "running";
  return a;
}

EpochRecord epoch_record(int e) {
  EpochRecord r;
  r.lr = 0.1 / (e + 1);
  r.train_loss = 2.0 - 0.25 * e;
  r.train_acc = 0.1 * e;
  r.time_s = 10 + e;
  r.best_fitness = 0.5 + 0.01 * e;
  r.best_full_val_acc = 0.4 + 0.01 * e;
  r.test_acc = NAN;
  r.n_new = e;
  return r;
}

/// Genes 0..4 and fitness values that differ per generation `g`, so rows cannot be confused.
std::vector<std::uint8_t> genomes(int n, int g) {
  std::vector<std::uint8_t> v(static_cast<std::size_t>(n * kLength));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::uint8_t((i + std::size_t(g)) % 5);
  return v;
}
std::vector<float> fitness(int n, int g) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[std::size_t(i)] = 0.1f * float(g) + 0.01f * float(i);
  return v;
}

void append_generation(Hdf5Log& log, int g) {
  log.append_generation(genomes(kNg, g), fitness(kNg, g), g / 2, g, genomes(kNp, g + 1), fitness(kNp, g + 1));
}

std::string temp_log() { return gnas::testing::make_temp_dir("gnas_h5log") + "/log.h5"; }

const char* const kGaDatasets[] = {"/ga/generation/genome",   "/ga/generation/fitness", "/ga/generation/epoch",
                                   "/ga/generation/n_new",    "/ga/generation/generation",
                                   "/ga/population/genome",   "/ga/population/fitness",
                                   "/ga/population/rescored_fitness", "/ga/population/generation"};

TEST(Hdf5LogTest, WhatIsAppendedIsWhatAReaderFinds) {
  const std::string path = temp_log();
  {
    Hdf5Log log(path, attributes(), kLength, kNg, kNp, true);
    for (int e = 0; e < 3; ++e) log.append_epoch(epoch_record(e));
    for (int s = 1; s <= 4; ++s) log.append_step({s * 5, 1 + s / 3, 2.5 - 0.1 * s, 10.0 * s, 0.1, 100.0 + s});
    for (int g = 0; g < 4; ++g) append_generation(log, g);
    log.set_best(genomes(1, 9), 0.75f);
    log.flush();
  }
  const H5 h(path);
  ASSERT_GE(h.file, 0);
  EXPECT_EQ(h.attr_string("command"), "search");
  EXPECT_EQ(h.attr_string("space"), "nb201");
  EXPECT_EQ(h.attr_string("strategy"), "ga");
  // What the config's keys mean, for gnas-analysis: gnas's one list.
  EXPECT_EQ(h.attr_string("config_keys"), config_keys_json());
  EXPECT_NE(h.attr_string("config_keys").find("\"operational\":[\"threads\""), std::string::npos)
      << h.attr_string("config_keys");
  std::vector<double> loss, lr;
  for (int e = 0; e < 3; ++e) loss.push_back(epoch_record(e).train_loss), lr.push_back(epoch_record(e).lr);
  EXPECT_EQ(h.read<double>("/epoch/train_loss", H5T_NATIVE_DOUBLE), loss);
  EXPECT_EQ(h.read<double>("/epoch/lr", H5T_NATIVE_DOUBLE), lr);
  EXPECT_EQ(h.read<int>("/epoch/n_new", H5T_NATIVE_INT), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(h.read<int>("/epoch/epoch", H5T_NATIVE_INT), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(h.read<int>("/step/step", H5T_NATIVE_INT), (std::vector<int>{5, 10, 15, 20}));
  EXPECT_EQ(h.read<int>("/step/epoch", H5T_NATIVE_INT), (std::vector<int>{1, 1, 2, 2}));
  EXPECT_EQ(h.read<double>("/step/acc", H5T_NATIVE_DOUBLE), (std::vector<double>{10, 20, 30, 40}));
  EXPECT_EQ(h.read<double>("/step/img_s", H5T_NATIVE_DOUBLE), (std::vector<double>{101, 102, 103, 104}));
  std::vector<std::uint8_t> all_genomes;
  std::vector<float> all_fitness;
  for (int g = 0; g < 4; ++g) {
    const auto rows = genomes(kNg, g);
    const auto f = fitness(kNp, g + 1);
    all_genomes.insert(all_genomes.end(), rows.begin(), rows.end());
    all_fitness.insert(all_fitness.end(), f.begin(), f.end());
  }
  EXPECT_EQ(h.shape("/ga/generation/genome"), (std::vector<hsize_t>{4, kNg, kLength}));
  EXPECT_EQ(h.read<std::uint8_t>("/ga/generation/genome", H5T_NATIVE_UINT8), all_genomes);
  EXPECT_EQ(h.read<float>("/ga/population/fitness", H5T_NATIVE_FLOAT), all_fitness);
  EXPECT_EQ(h.read<int>("/ga/generation/epoch", H5T_NATIVE_INT), (std::vector<int>{0, 0, 1, 1}));
  const auto rescored = h.read<float>("/ga/population/rescored_fitness", H5T_NATIVE_FLOAT);
  ASSERT_EQ(rescored.size(), std::size_t(4 * kNp));
  for (float v : rescored) EXPECT_TRUE(std::isnan(v));  // not re-scored
  EXPECT_EQ(h.read<std::uint8_t>("/best/genome", H5T_NATIVE_UINT8), genomes(1, 9));
  EXPECT_EQ(h.read<float>("/best/fitness", H5T_NATIVE_FLOAT), std::vector<float>{0.75f});
  // The tools' reader agrees.
  const LogSummary s = read_log_summary(path);
  EXPECT_EQ(s.seed, 7u);
  EXPECT_EQ(s.best_fitness.size(), 3u);
  EXPECT_EQ(s.best_genome, genomes(1, 9));
}

// A generation spans nine datasets. One that fails after some of them were extended (here the
// re-scored values do not fit the population) leaves every dataset at its old length, so the
// log's rows stay aligned and the next generation lands in the right row.
TEST(Hdf5LogTest, AFailedRecordLeavesNoPartialRow) {
  const std::string path = temp_log();
  {
    Hdf5Log log(path, attributes(), kLength, kNg, kNp, true);
    append_generation(log, 0);
    EXPECT_THROW(log.append_generation(genomes(kNg, 1), fitness(kNg, 1), 0, 1, genomes(kNp, 2), fitness(kNp, 2),
                                       std::vector<float>(kNp + 1, 0.5f)),
                 Error);
    EXPECT_EQ(log.content().generation_epoch.size(), 1u);
    // Vectors of another size than the log's rows are refused before a byte is written (issue 29:
    // they were written from .data() unchecked, reading past the end of a short one).
    EXPECT_THROW(log.append_generation(genomes(kNg - 1, 1), fitness(kNg, 1), 0, 1, genomes(kNp, 2), fitness(kNp, 2)),
                 Error);
    EXPECT_THROW(log.append_generation(genomes(kNg, 1), fitness(kNg, 1), 0, 1, genomes(kNp, 2), fitness(kNp - 1, 2)),
                 Error);
    EXPECT_THROW(log.append_generation(genomes(kNg, 1), {}, 0, 1, genomes(kNp, 2), fitness(kNp, 2)), Error);
    EXPECT_THROW(log.set_best(std::vector<std::uint8_t>(kLength - 1, 0), 0.5f), Error);
    EXPECT_EQ(log.content().generation_epoch.size(), 1u);
    EXPECT_TRUE(log.content().best_genome.empty());
    log.flush();
    {
      const H5 h(path);  // SWMR: readable while the writer holds it
      for (const char* d : kGaDatasets) EXPECT_EQ(h.shape(d).at(0), 1u) << d;
    }
    append_generation(log, 2);
  }
  const H5 h(path);
  for (const char* d : kGaDatasets) EXPECT_EQ(h.shape(d).at(0), 2u) << d;
  auto expected = genomes(kNg, 0);
  const auto second = genomes(kNg, 2);
  expected.insert(expected.end(), second.begin(), second.end());
  EXPECT_EQ(h.read<std::uint8_t>("/ga/generation/genome", H5T_NATIVE_UINT8), expected);
  EXPECT_EQ(h.read<int>("/ga/generation/generation", H5T_NATIVE_INT), (std::vector<int>{1, 2}));
}

// A resume rebuilds the log from the checkpoint's copy of its content: the same rows, and the
// old file replaced (rows written after the checkpoint are gone).
TEST(Hdf5LogTest, RestoredLogEqualsTheContentItWasBuiltFrom) {
  const std::string path = temp_log();
  LogContent kept;
  {
    Hdf5Log log(path, attributes(), kLength, kNg, kNp, true);
    log.append_epoch(epoch_record(0));
    log.append_step({3, 1, 2.0, 20.0, 0.1, 50.0});
    append_generation(log, 0);
    append_generation(log, 1);
    log.set_best(genomes(1, 3), 0.5f);
    kept = log.content();
    log.append_epoch(epoch_record(1));  // after the "checkpoint": gone on restore
    append_generation(log, 2);
  }
  const auto before = H5(path).read<std::uint8_t>("/ga/population/genome", H5T_NATIVE_UINT8);
  { Hdf5Log::restore(path, kept); }
  const H5 h(path);
  ASSERT_GE(h.file, 0);
  EXPECT_EQ(h.read<double>("/epoch/train_loss", H5T_NATIVE_DOUBLE), std::vector<double>{epoch_record(0).train_loss});
  EXPECT_EQ(h.read<int>("/step/step", H5T_NATIVE_INT), std::vector<int>{3});
  EXPECT_EQ(h.shape("/ga/population/genome").at(0), 2u);
  EXPECT_EQ(h.read<std::uint8_t>("/ga/population/genome", H5T_NATIVE_UINT8),
            std::vector<std::uint8_t>(before.begin(), before.begin() + 2 * kNp * kLength));
  EXPECT_EQ(h.read<std::uint8_t>("/best/genome", H5T_NATIVE_UINT8), genomes(1, 3));
  EXPECT_FALSE(std::filesystem::exists(path + ".restore"));
}

// A log directory that cannot be written: IoError naming the file, not a crash.
TEST(Hdf5LogTest, UnwritablePathIsAnIoError) {
  const std::string path = gnas::testing::make_temp_dir("gnas_h5log") + "/missing/log.h5";
  try {
    Hdf5Log log(path, attributes(), kLength, kNg, kNp, true);
    FAIL() << "created " << path;
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace gnas::io
