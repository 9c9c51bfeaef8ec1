// The checkpoint at its seam: a run's state, its log's rows included, written and read back without
// a command around it (milliseconds, on a tiny nb201 network).
#include "gnas/train/checkpoint.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "gnas/io/log_schema.h"
#include "gnas/nn/supernet.h"
#include "gnas/space/nb201.h"
#include "gnas/train/batches.h"
#include "gnas/train/device.h"
#include "gnas/train/evaluation.h"
#include "gnas/train/optim.h"
#include "gnas/train/resume_config.h"

namespace gnas::train {
namespace {

nn::Supernet tiny_net() {
  nn::NetworkOptions o;
  o.space = "nb201";
  o.channels = 2;
  o.cells = 1;
  return nn::make_network(o);
}

/// Every column of the log's schema gets a distinct value (through the schema's own field pointers,
/// so a column added later is covered without touching this test), and the nb201 parts are filled.
io::LogContent filled_log() {
  io::LogContent c;
  c.attrs.command = "search";
  c.attrs.config = "seed = 1\n";
  c.genome_length = 6, c.n_g = 2, c.n_p = 2, c.with_ga = true, c.n_rank = 3;
  for (int e = 0; e < 3; ++e) {
    io::EpochRecord r;
    int k = 0;
    for (const auto& d : io::log_schema()) {
      if (d.f64) r.*d.f64 = 100.0 * e + ++k + 0.25;
      if (d.i32) r.*d.i32 = 100 * e + ++k;
    }
    c.epochs.push_back(r);
  }
  for (int s = 0; s < 5; ++s) {  // the /step rows, the same way
    io::StepRecord r;
    int k = 0;
    for (const auto& d : io::log_schema()) {
      if (d.step_f64) r.*d.step_f64 = 10.0 * s + ++k + 0.5;
      if (d.step_i32) r.*d.step_i32 = 10 * s + ++k;
    }
    c.steps.push_back(r);
  }
  for (int g = 0; g < 2; ++g) {
    for (int i = 0; i < 12; ++i) c.generation_genomes.push_back(std::uint8_t((g + i) % 5));
    c.generation_fitness.insert(c.generation_fitness.end(), {10.f + g, 20.f + g});
    c.generation_epoch.push_back(g);
    c.generation_n_new.push_back(2 - g);
    for (int i = 0; i < 12; ++i) c.population_genomes.push_back(std::uint8_t((g + 2 * i) % 5));
    c.population_fitness.insert(c.population_fitness.end(), {30.f + g, 25.f + g});
    c.population_rescored.insert(c.population_rescored.end(), {g ? 31.f : NAN, g ? 24.f : NAN});
  }
  c.best_genome = {1, 2, 3, 4, 0, 1};
  c.best_fitness = 31.f;
  c.rank_genomes = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 3, 3, 3, 1, 3, 2};
  c.rank_index = {11, 1835, 6111};
  c.rank_table_test = {10.f, 54.3f, 94.37f};
  c.rank_table_valid = {9.7f, 39.77f, 91.61f};
  c.rank_epoch = {0, 2};
  c.rank_score = {10.f, 20.f, 30.f, 12.f, 11.f, 40.f};
  c.rank_tau = {1.0, 1.0 / 3};
  c.rank_rho = {1.0, 0.5};
  return c;
}

template <class T>
bool same_or_both_nan(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(double(a[i])) && std::isnan(double(b[i]))))) return false;
  return true;
}

TEST(CheckpointUnitTest, EveryLogColumnAndTheRunStateRoundTrip) {
  const std::string dir = ::testing::TempDir() + "gnas_ckpt_unit";
  std::filesystem::remove_all(dir);
  nn::Supernet net = tiny_net();
  net->set_genome(space::nb201::decode(777));
  auto sgd = make_sgd(net->parameters(), TrainOptions{});
  RunState st;
  st.epoch = 2, st.step = 5, st.loss_sum = 1.5, st.correct = 42, st.best_metric = 12.5;
  st.population = {{{1, 2, 3, 4, 0, 1}, 31.f}, {{0, 1, 2, 3, 4, 0}, 24.f}};
  st.generation = {{4, 4, 4, 4, 4, 4}, {2, 2, 2, 2, 2, 2}};
  st.ga_rng = Rng(5, 1);
  st.data_rng = Rng(5, 2);
  st.log = filled_log();
  save_checkpoint(dir, net, *sgd, st);

  nn::Supernet other = tiny_net();
  auto other_sgd = make_sgd(other->parameters(), TrainOptions{});
  RunState back;
  EXPECT_EQ(load_checkpoint(dir, other, *other_sgd, back), dir + "/latest.pt");
  EXPECT_EQ(back.epoch, 2);
  EXPECT_EQ(back.step, 5);
  EXPECT_EQ(back.correct, 42);
  EXPECT_EQ(back.population.size(), 2u);
  EXPECT_EQ(back.population[1].genome, st.population[1].genome);
  EXPECT_EQ(back.generation, st.generation);
  EXPECT_EQ(back.ga_rng.state(), st.ga_rng.state());
  for (std::size_t i = 0; i < net->parameters().size(); ++i)
    EXPECT_TRUE(torch::equal(net->parameters()[i], other->parameters()[i])) << "parameter " << i;

  const io::LogContent& a = st.log;
  const io::LogContent& b = back.log;
  ASSERT_EQ(b.epochs.size(), a.epochs.size());
  for (const auto& d : io::log_schema())
    for (std::size_t e = 0; e < a.epochs.size(); ++e) {
      if (d.f64) {
        EXPECT_EQ(b.epochs[e].*d.f64, a.epochs[e].*d.f64) << d.path << " epoch " << e;
      }
      if (d.i32) {
        EXPECT_EQ(b.epochs[e].*d.i32, a.epochs[e].*d.i32) << d.path << " epoch " << e;
      }
    }
  ASSERT_EQ(b.steps.size(), a.steps.size());
  for (const auto& d : io::log_schema())
    for (std::size_t s = 0; s < a.steps.size(); ++s) {
      if (d.step_f64) {
        EXPECT_EQ(b.steps[s].*d.step_f64, a.steps[s].*d.step_f64) << d.path << " row " << s;
      }
      if (d.step_i32) {
        EXPECT_EQ(b.steps[s].*d.step_i32, a.steps[s].*d.step_i32) << d.path << " row " << s;
      }
    }
  EXPECT_EQ(b.generation_genomes, a.generation_genomes);
  EXPECT_EQ(b.population_fitness, a.population_fitness);
  EXPECT_TRUE(same_or_both_nan(b.population_rescored, a.population_rescored));
  EXPECT_EQ(b.n_rank, 3);
  EXPECT_EQ(b.rank_genomes, a.rank_genomes);
  EXPECT_EQ(b.rank_index, a.rank_index);
  EXPECT_EQ(b.rank_table_test, a.rank_table_test);
  EXPECT_EQ(b.rank_epoch, a.rank_epoch);
  EXPECT_EQ(b.rank_score, a.rank_score);
  EXPECT_EQ(b.rank_tau, a.rank_tau);
  EXPECT_EQ(b.rank_rho, a.rank_rho);
  EXPECT_EQ(b.best_genome, a.best_genome);
  std::filesystem::remove_all(dir);
}

/// A checkpoint of another space's network is refused, not loaded into the wrong tensors.
TEST(CheckpointUnitTest, ACheckpointOfAnotherShapeIsRefused) {
  const std::string dir = ::testing::TempDir() + "gnas_ckpt_shape";
  std::filesystem::remove_all(dir);
  nn::Supernet net = tiny_net();
  auto sgd = make_sgd(net->parameters(), TrainOptions{});
  RunState st;
  save_checkpoint(dir, net, *sgd, st);
  nn::NetworkOptions o;
  o.channels = 2;
  o.cells = 1;
  nn::Supernet paper = nn::make_network(o);
  auto paper_sgd = make_sgd(paper->parameters(), TrainOptions{});
  RunState back;
  EXPECT_THROW(load_checkpoint(dir, paper, *paper_sgd, back), IoError);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gnas::train
