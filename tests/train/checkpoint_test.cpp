// The checkpoint at its seam: a run's state, its log's rows included, written and read back without
// a command around it (milliseconds, on a tiny nb201 network).
#include "gnas/train/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <fstream>

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
  c.attrs.version = "9.8.7";
  c.attrs.seed = 77;
  c.attrs.world_size = 3;
  c.attrs.dataset = "cifar10";
  c.attrs.started_at = "2026-12-08T00:00:00Z";
  c.attrs.resume_history = "resumed once\n";
  c.attrs.strategy = "ga";
  c.attrs.fitness = "naswot+synflow";
  c.attrs.net_compat = "reference";
  c.attrs.run_id = "abc123";
  c.attrs.source_run = "runs/s";
  c.attrs.source_run_id = "def456";
  c.attrs.source_epoch = 4;
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
  c.rank_table_params = {0.07f, 1.1f, 1.53f};
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

  // The whole log content (issue 29: this compared a subset, so a field dropped from the writer passed).
  EXPECT_EQ(io::first_difference(st.log, back.log), "");
  // The equality itself sees a change in each kind of field.
  for (const auto& change : std::vector<std::function<void(io::LogContent&)>>{
           [](io::LogContent& c) { c.attrs.source_epoch = 5; },
           [](io::LogContent& c) { c.generation_epoch[1] = 9; },
           [](io::LogContent& c) { c.generation_n_new[0] = -1; },
           [](io::LogContent& c) { c.generation_fitness[3] = 0.f; },
           [](io::LogContent& c) { c.population_genomes[5] = 4; },
           [](io::LogContent& c) { c.rank_table_valid[2] = 1.f; },
           [](io::LogContent& c) { c.best_fitness = NAN; },
           [](io::LogContent& c) {
             for (const auto& d : io::log_schema())
               if (d.f64) c.epochs[1].*d.f64 += 1;
           },
       }) {
    io::LogContent changed = back.log;
    change(changed);
    EXPECT_NE(io::first_difference(st.log, changed), "");
  }
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

/// A checkpoint written before format 4 (the GA state as four tensors: population, fitness,
/// generation, ga_rng) still loads, into the same state; one whose tensors disagree is refused.
TEST(CheckpointUnitTest, AFormat3CheckpointStillLoads) {
  const std::string dir = ::testing::TempDir() + "gnas_ckpt_format3";
  std::filesystem::remove_all(dir);
  nn::Supernet net = tiny_net();
  auto sgd = make_sgd(net->parameters(), TrainOptions{});
  RunState st;
  st.population = {{{1, 2, 3, 4, 0, 1}, 31.5f}, {{0, 1, 2, 3, 4, 0}, 24.25f}, {{4, 4, 0, 0, 1, 1}, 12.f}};
  st.generation = {{4, 4, 4, 4, 4, 4}, {2, 2, 2, 2, 2, 2}, {0, 1, 0, 1, 0, 1}, {3, 3, 3, 3, 3, 3}};
  st.ga_rng = Rng(9, 1);
  st.log = filled_log();
  save_checkpoint(dir, net, *sgd, st);

  // Rewrite it as gnas wrote format 3: every entry but format and ga_state copied, the GA state as
  // the four tensors of that format.
  const auto rewrite = [&](torch::Tensor population, torch::Tensor fitness) {
    torch::serialize::InputArchive in;
    open_sealed_archive(dir + "/latest.pt", in);
    torch::serialize::OutputArchive out;
    for (const auto& key : in.keys()) {
      if (key == "format" || key == "ga_state") continue;
      torch::Tensor t;
      torch::serialize::InputArchive sub;
      if (in.try_read(key, t)) out.write(key, t);
      else if (in.try_read(key, sub)) {
        torch::serialize::OutputArchive copy;  // a nested archive (model, optimizer, log): entry by entry
        std::function<void(torch::serialize::InputArchive&, torch::serialize::OutputArchive&)> deep =
            [&](torch::serialize::InputArchive& i, torch::serialize::OutputArchive& o) {
              for (const auto& k : i.keys()) {
                torch::Tensor v;
                torch::serialize::InputArchive n;
                c10::IValue value;
                if (i.try_read(k, v)) o.write(k, v);
                else if (i.try_read(k, n)) {
                  torch::serialize::OutputArchive m;
                  deep(n, m);
                  o.write(k, m);
                } else if (i.try_read(k, value)) {
                  o.write(k, value);  // the optimizer's counts
                }
              }
            };
        deep(sub, copy);
        out.write(key, copy);
      }
    }
    out.write("format", torch::tensor({int64_t{3}}));
    out.write("population", population);
    out.write("fitness", fitness);
    auto gen = torch::zeros({4, 6}, torch::kUInt8);
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 6; ++j) gen[i][j] = st.generation[std::size_t(i)][std::size_t(j)];
    out.write("generation", gen);
    std::vector<int64_t> words;
    for (auto w : st.ga_rng.state()) words.push_back(static_cast<int64_t>(w));
    out.write("ga_rng", torch::tensor(words, torch::kInt64));
    const std::string sealed = seal_archive(out);
    std::ofstream(dir + "/latest.pt", std::ios::binary | std::ios::trunc) << sealed;
  };
  auto pop = torch::zeros({3, 6}, torch::kUInt8);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 6; ++j) pop[i][j] = st.population[std::size_t(i)].genome[std::size_t(j)];
  const auto fit = torch::tensor({31.5f, 24.25f, 12.f}, torch::kFloat32);
  rewrite(pop, fit);

  nn::Supernet other = tiny_net();
  auto other_sgd = make_sgd(other->parameters(), TrainOptions{});
  RunState back;
  load_checkpoint(dir, other, *other_sgd, back);
  ASSERT_EQ(back.population.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back.population[i].genome, st.population[i].genome) << i;
    EXPECT_EQ(back.population[i].fitness, st.population[i].fitness) << i;
  }
  EXPECT_EQ(back.generation, st.generation);
  EXPECT_EQ(back.ga_rng.state(), st.ga_rng.state());
  EXPECT_EQ(back.log.population_fitness, st.log.population_fitness);
  for (std::size_t i = 0; i < net->parameters().size(); ++i)
    EXPECT_TRUE(torch::equal(net->parameters()[i], other->parameters()[i])) << "parameter " << i;

  // Four tensors that disagree (a fitness missing) are refused with the file named.
  std::filesystem::remove(dir + "/previous.pt");
  rewrite(pop, torch::tensor({31.5f, 24.25f}, torch::kFloat32));
  RunState bad;
  EXPECT_THAT([&] { load_checkpoint(dir, other, *other_sgd, bad); },
              ::testing::ThrowsMessage<IoError>(::testing::HasSubstr("the GA state's tensors do not agree")));
  std::filesystem::remove_all(dir);
}

/// A sealed checkpoint whose contents make no sense (issue 29's attack: out-of-range genes, a NaN
/// fitness, an all-zero generator were found late or with the wrong cause) is refused at load,
/// naming the file and the field, and the previous checkpoint is used instead.
TEST(CheckpointUnitTest, SealedButImpossibleContentsAreRefusedAndThePreviousOneIsUsed) {
  const std::string dir = ::testing::TempDir() + "gnas_ckpt_contents";
  nn::Supernet net = tiny_net();
  auto sgd = make_sgd(net->parameters(), TrainOptions{});
  const auto good_state = [] {
    RunState st;
    st.epoch = 1;
    st.population = {{{1, 2, 3, 4, 0, 1}, 31.f}, {{0, 1, 2, 3, 4, 0}, 24.f}};
    st.generation = {{4, 4, 4, 4, 4, 4}};
    st.ga_rng = Rng(5, 1);
    st.data_rng = Rng(5, 2);
    st.data_rng_epoch_start = Rng(5, 3);
    st.log = filled_log();
    return st;
  };
  struct Case {
    const char* name;
    std::function<void(RunState&)> spoil;
    const char* message;
  };
  const std::vector<Case> cases{
      {"gene", [](RunState& st) { st.population[1].genome[3] = 5; }, "population[1] is not a genome of the nb201 space"},
      {"generation", [](RunState& st) { st.generation[0][0] = 200; }, "generation[0] is not a genome of the nb201 space"},
      {"fitness", [](RunState& st) { st.population[0].fitness = NAN; }, "population[0] has a NaN fitness"},
      {"ga_rng", [](RunState& st) { st.ga_rng.set_state({0, 0, 0, 0}); }, "ga_rng is all zeros"},
      {"data_rng", [](RunState& st) { st.data_rng.set_state({0, 0, 0, 0}); }, "data_rng is all zeros"},
      {"time", [](RunState& st) { st.epoch_seconds = -1; }, "impossible epoch time"},
  };
  for (const auto& c : cases) {
    std::filesystem::remove_all(dir);
    RunState good = good_state();
    save_checkpoint(dir, net, *sgd, good);  // becomes previous.pt with the next save
    RunState spoiled = good_state();
    spoiled.epoch = 2;
    c.spoil(spoiled);
    save_checkpoint(dir, net, *sgd, spoiled);
    nn::Supernet other = tiny_net();
    auto other_sgd = make_sgd(other->parameters(), TrainOptions{});
    RunState back;
    EXPECT_EQ(load_checkpoint(dir, other, *other_sgd, back), dir + "/previous.pt") << c.name;
    EXPECT_EQ(back.epoch, 1) << c.name;
    // Without a previous checkpoint, the refusal names the file and the field.
    std::filesystem::remove_all(dir);
    save_checkpoint(dir, net, *sgd, spoiled);
    RunState none;
    EXPECT_THAT([&] { load_checkpoint(dir, other, *other_sgd, none); },
                ::testing::ThrowsMessage<IoError>(::testing::HasSubstr(c.message)))
        << c.name;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gnas::train

// Model files (train/checkpoint.h: save_model, load_model).
namespace gnas::train {
namespace {


/// A hand-made sealed model file: `net`'s weights under the given header (shape C, N_cell, N_b,
/// classes; gnas_net = {compat, share_slots}, left out when empty, as in files of older gnas).
void write_model_file(const std::string& path, nn::Supernet& net, std::vector<int64_t> shape,
                      std::vector<int64_t> net_flags) {
  torch::serialize::OutputArchive archive, weights;
  archive.write("gnas_format", torch::tensor({int64_t{2}}));
  archive.write("gnas_shape", torch::tensor(shape));
  if (!net_flags.empty()) archive.write("gnas_net", torch::tensor(net_flags));
  std::vector<int64_t> genes(net->genome().begin(), net->genome().end());
  archive.write("gnas_genome", torch::tensor(genes));
  archive.write("gnas_dataset", torch::zeros({1}, torch::kUInt8));
  net->save(weights);
  archive.write("model", weights);
  std::ofstream(path, std::ios::binary) << seal_archive(archive);
}

void expect_io_error(const std::string& path, const std::string& phrase) {
  EXPECT_THAT([&] { load_model(path, torch::kCPU); }, ::testing::ThrowsMessage<IoError>(::testing::HasSubstr(phrase)))
      << path;
}

/// Model files are sealed: a damaged one, or one whose shape header does not fit its weights,
/// gives an IoError naming the file instead of a libtorch backtrace.
TEST(ModelFileTest, RoundTripAndBadFilesNameTheProblem) {
  torch::manual_seed(0);
  space::SearchSpace space;
  Rng rng(5);
  nn::NetworkOptions o;
  o.channels = 4;
  o.cells = 1;
  o.fixed = ga::random_genome(space::paper_gene_space(space), rng);
  nn::Supernet net = nn::make_network(o);
  const std::string dir = ::testing::TempDir();
  save_model(dir + "model.pt", net, "cifar10");
  LoadedModel m = load_model(dir + "model.pt", torch::kCPU);
  EXPECT_EQ(m.dataset, "cifar10");
  EXPECT_EQ(m.net->genome(), *o.fixed);
  const auto x = torch::randn({2, 3, 32, 32});
  net->eval();
  m.net->eval();
  EXPECT_TRUE(torch::equal(net->forward(x), m.net->forward(x)));

  // The same weights under a header that says C=6.
  write_model_file(dir + "lying.pt", net, {6, 1, 5, 10}, {0, 1});
  expect_io_error(dir + "lying.pt", "lying.pt': its weights do not fit the network: ");
  expect_io_error(dir + "lying.pt", "stem_conv.weight is [4, 3, 3, 3] in the file, [6, 3, 3, 3] in the network (header: space paper, C=6 N_cell=1 N_b=5 classes=10)");

  // A header with an impossible compat value.
  write_model_file(dir + "bad_net.pt", net, {4, 1, 5, 10}, {7, 1});
  expect_io_error(dir + "bad_net.pt", "bad_net.pt': impossible network header (gnas_net)");

  // One changed byte anywhere: the checksum says so.
  std::ifstream in(dir + "model.pt", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  bytes[bytes.size() / 3] = char(bytes[bytes.size() / 3] ^ 1);
  std::ofstream(dir + "flipped.pt", std::ios::binary) << bytes;
  expect_io_error(dir + "flipped.pt", "flipped.pt: checksum mismatch, the file is damaged");
  expect_io_error(dir + "missing.pt", "no such file");
}

/// The network's compat and slot sharing travel in the model file, so evaluate rebuilds the same
/// network; a file written before they existed (no gnas_net entry) is read as paper, per-slot.
TEST(ModelFileTest, CompatAndSlotSharingRoundTripAndOldFilesStillLoad) {
  torch::manual_seed(0);
  space::SearchSpace space;
  Rng rng(9);
  const std::string dir = ::testing::TempDir();
  const auto x = torch::randn({2, 3, 32, 32});
  for (const auto compat : {NetCompat::kPaper, NetCompat::kReference})
    for (const bool share : {true, false}) {
      nn::NetworkOptions o;
      o.channels = 4;
      o.cells = 1;
      o.compat = compat;
      o.share_slots = share;
      o.fixed = ga::random_genome(space::paper_gene_space(space), rng);
      nn::Supernet net = nn::make_network(o);
      save_model(dir + "flags.pt", net, "cifar10");
      LoadedModel m = load_model(dir + "flags.pt", torch::kCPU);
      EXPECT_EQ(m.net->options().compat, compat);
      EXPECT_EQ(m.net->options().share_slots, share);
      net->eval();
      m.net->eval();
      EXPECT_TRUE(torch::equal(net->forward(x), m.net->forward(x)));
    }
  // An old file: per-slot weights and no gnas_net entry.
  nn::NetworkOptions o;
  o.channels = 4;
  o.cells = 1;
  o.share_slots = false;
  o.fixed = space::parse_text(space, "0 1 3 3 0 2 3 1 2 1 2 4 4 0 1 4 4 1 4 4 | 0 1 1 4 2 2 2 1 0 0 2 1 3 4 4 2 3 1 0 2 | "
                                      "0 0 3 1 1 1 3 1 0 2 3 2 0 0 2 1 1 1 1 3");
  nn::Supernet old_net = nn::make_network(o);
  write_model_file(dir + "old.pt", old_net, {4, 1, 5, 10}, {});
  LoadedModel m = load_model(dir + "old.pt", torch::kCPU);
  EXPECT_EQ(m.net->options().compat, NetCompat::kPaper);
  EXPECT_FALSE(m.net->options().share_slots);
  old_net->eval();
  m.net->eval();
  EXPECT_TRUE(torch::equal(old_net->forward(x), m.net->forward(x)));
}

}  // namespace
}  // namespace gnas::train
