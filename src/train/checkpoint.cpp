#include "gnas/train/checkpoint.h"

#include <filesystem>
#include <fcntl.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <torch/torch.h>

#include <map>
#include <sstream>

#include "gnas/core/error.h"
#include "gnas/core/hash.h"
#include "gnas/core/log.h"
#include "gnas/ga/state.h"
#include "gnas/io/files.h"
#include "gnas/train/model_header.h"
#include "gnas/io/log_schema.h"
#include "gnas/io/seal.h"
#include "gnas/space/space.h"

namespace gnas::train {
namespace {

// 2: sealed (checksum), carries the log's rows; 3: also the CUDA generator of the run's device and
// the fp16 loss scaler, when the run has them; 4: the GA state as one `ga_state` in ga/state.h's
// encoding (the one rank 0 broadcasts), not four tensors. Formats 2 and 3 still load.
constexpr int64_t kCheckpointFormat = 4;

torch::Tensor bytes_tensor(const void* data, std::size_t n) {
  auto t = torch::empty({static_cast<int64_t>(n)}, torch::kUInt8);
  if (n) std::memcpy(t.data_ptr<uint8_t>(), data, n);
  return t;
}
torch::Tensor string_tensor(const std::string& s) { return bytes_tensor(s.data(), s.size()); }
std::string string_from(const torch::Tensor& t) {
  auto c = t.contiguous();
  return std::string(reinterpret_cast<const char*>(c.data_ptr<uint8_t>()), std::size_t(c.numel()));
}
template <class T>
torch::Tensor vector_tensor(const std::vector<T>& v, torch::Dtype dtype) {
  auto t = torch::empty({static_cast<int64_t>(v.size())}, dtype);
  if (!v.empty()) std::memcpy(t.data_ptr(), v.data(), v.size() * sizeof(T));
  return t;
}
template <class T>
std::vector<T> vector_from(const torch::Tensor& t) {
  auto c = t.contiguous();
  GNAS_CHECK(std::size_t(c.element_size()) == sizeof(T), "checkpoint: element size mismatch");
  std::vector<T> v(std::size_t(c.numel()));
  if (!v.empty()) std::memcpy(v.data(), c.data_ptr(), v.size() * sizeof(T));
  return v;
}

/// The archive key of a record column ("/epoch/lr" -> "log_epoch_lr", "/step/loss" -> "log_step_loss").
std::string column_key(const io::LogDataset& d) {
  std::string key = std::string("log") + d.path;
  for (auto& ch : key)
    if (ch == '/') ch = '_';
  return key;
}

/// A record table (the epoch rows, the step rows) as one tensor per column of the log's schema:
/// a new record field is a new schema row, stored and restored here without another edit.
/// `f64`/`i32` pick the schema's member pointers for the record type R.
template <class R, class F, class I>
void write_columns(torch::serialize::OutputArchive& a, const char* rows_key, const std::vector<R>& rows, F f64, I i32) {
  a.write(rows_key, torch::tensor({int64_t(rows.size())}));
  for (const auto& d : io::log_schema()) {
    if (d.*f64) {
      std::vector<double> column;
      for (const auto& r : rows) column.push_back(r.*(d.*f64));
      a.write(column_key(d), vector_tensor(column, torch::kFloat64));
    } else if (d.*i32) {
      std::vector<int32_t> column;
      for (const auto& r : rows) column.push_back(r.*(d.*i32));
      a.write(column_key(d), vector_tensor(column, torch::kInt32));
    }
  }
}

/// The rows written by write_columns; false when the archive has none (an older checkpoint). A
/// column added after the checkpoint was written keeps the record's default.
template <class R, class F, class I>
bool read_columns(torch::serialize::InputArchive& a, const char* rows_key, std::vector<R>& rows, F f64, I i32) {
  torch::Tensor rows_t;
  if (!a.try_read(rows_key, rows_t)) return false;
  rows.assign(std::size_t(rows_t.item<int64_t>()), R{});
  for (const auto& d : io::log_schema()) {
    if (!(d.*f64) && !(d.*i32)) continue;
    torch::Tensor column;
    if (!a.try_read(column_key(d), column)) continue;
    GNAS_CHECK(column.numel() == int64_t(rows.size()), "checkpoint: ", d.path, " has ", column.numel(), " rows, not ",
               rows.size());
    if (d.*f64) {
      const auto values = vector_from<double>(column);
      for (std::size_t i = 0; i < values.size(); ++i) rows[i].*(d.*f64) = values[i];
    } else {
      const auto values = vector_from<int32_t>(column);
      for (std::size_t i = 0; i < values.size(); ++i) rows[i].*(d.*i32) = values[i];
    }
  }
  return true;
}

void write_log(torch::serialize::OutputArchive& a, const io::LogContent& c) {
  const auto& at = c.attrs;
  a.write("log_shape", torch::tensor({int64_t(c.genome_length), int64_t(c.n_g), int64_t(c.n_p), int64_t(c.with_ga),
                                      int64_t(at.seed), int64_t(at.world_size)}));
  for (const auto& [key, text] : {std::pair<const char*, const std::string*>{"log_command", &at.command},
                                  {"log_config", &at.config}, {"log_version", &at.version},
                                  {"log_dataset", &at.dataset}, {"log_started_at", &at.started_at},
                                  {"log_resume_history", &at.resume_history}, {"log_strategy", &at.strategy},
                                  {"log_net_compat", &at.net_compat}, {"log_run_id", &at.run_id},
                                  {"log_source_run", &at.source_run}, {"log_source_run_id", &at.source_run_id}})
    a.write(key, string_tensor(*text));
  a.write("log_source_epoch", torch::tensor({int64_t(at.source_epoch)}));
  write_columns(a, "log_epoch_rows", c.epochs, &io::LogDataset::f64, &io::LogDataset::i32);
  write_columns(a, "log_step_rows", c.steps, &io::LogDataset::step_f64, &io::LogDataset::step_i32);
  a.write("log_population_rescored", vector_tensor(c.population_rescored, torch::kFloat32));
  a.write("log_rank_n", torch::tensor({int64_t(c.n_rank)}));
  a.write("log_rank_genomes", vector_tensor(c.rank_genomes, torch::kUInt8));
  a.write("log_rank_index", vector_tensor(c.rank_index, torch::kInt32));
  a.write("log_rank_table_test", vector_tensor(c.rank_table_test, torch::kFloat32));
  a.write("log_rank_table_valid", vector_tensor(c.rank_table_valid, torch::kFloat32));
  a.write("log_rank_table_params", vector_tensor(c.rank_table_params, torch::kFloat32));
  a.write("log_fitness", string_tensor(c.attrs.fitness));
  a.write("log_rank_epoch", vector_tensor(c.rank_epoch, torch::kInt32));
  a.write("log_rank_score", vector_tensor(c.rank_score, torch::kFloat32));
  a.write("log_rank_tau", vector_tensor(c.rank_tau, torch::kFloat64));
  a.write("log_rank_rho", vector_tensor(c.rank_rho, torch::kFloat64));
  a.write("log_generation_genomes", vector_tensor(c.generation_genomes, torch::kUInt8));
  a.write("log_generation_fitness", vector_tensor(c.generation_fitness, torch::kFloat32));
  a.write("log_generation_epoch", vector_tensor(std::vector<int32_t>(c.generation_epoch.begin(), c.generation_epoch.end()),
                                                torch::kInt32));
  a.write("log_generation_n_new", vector_tensor(std::vector<int32_t>(c.generation_n_new.begin(), c.generation_n_new.end()),
                                                torch::kInt32));
  a.write("log_population_genomes", vector_tensor(c.population_genomes, torch::kUInt8));
  a.write("log_population_fitness", vector_tensor(c.population_fitness, torch::kFloat32));
  a.write("log_best_genome", vector_tensor(c.best_genome, torch::kUInt8));
  a.write("log_best_fitness", torch::tensor({c.best_fitness}, torch::kFloat32));
}

io::LogContent read_log(torch::serialize::InputArchive& a) {
  io::LogContent c;
  // A fresh tensor per key: reading into a defined tensor would keep its dtype.
  auto get = [&](const char* key) {
    torch::Tensor t;
    a.read(key, t);
    return t;
  };
  torch::Tensor t = get("log_shape");
  GNAS_CHECK(t.numel() == 6, "checkpoint: log_shape must have 6 entries");
  c.genome_length = int(t[0].item<int64_t>());
  c.n_g = int(t[1].item<int64_t>());
  c.n_p = int(t[2].item<int64_t>());
  c.with_ga = t[3].item<int64_t>() != 0;
  c.attrs.seed = std::uint64_t(t[4].item<int64_t>());
  c.attrs.world_size = int(t[5].item<int64_t>());
  auto& at = c.attrs;
  for (const auto& [key, text] : {std::pair<const char*, std::string*>{"log_command", &at.command},
                                  {"log_config", &at.config}, {"log_version", &at.version},
                                  {"log_dataset", &at.dataset}, {"log_started_at", &at.started_at},
                                  {"log_resume_history", &at.resume_history}, {"log_strategy", &at.strategy}}) {
    *text = string_from(get(key));
  }
  torch::Tensor fitness_name;  // absent in checkpoints written before --search.fitness existed
  at.fitness = a.try_read("log_fitness", fitness_name) ? string_from(fitness_name) : "";
  torch::Tensor compat;  // absent in checkpoints written before net.compat existed
  at.net_compat = a.try_read("log_net_compat", compat) ? string_from(compat) : "";
  torch::Tensor run_id;  // absent in checkpoints written before runs had an id
  at.run_id = a.try_read("log_run_id", run_id) ? string_from(run_id) : "";
  torch::Tensor source;  // absent in checkpoints written before retrains recorded their search
  at.source_run = a.try_read("log_source_run", source) ? string_from(source) : "";
  source = torch::Tensor();
  at.source_run_id = a.try_read("log_source_run_id", source) ? string_from(source) : "";
  source = torch::Tensor();
  at.source_epoch = a.try_read("log_source_epoch", source) ? int(source.item<int64_t>()) : 0;
  read_columns(a, "log_step_rows", c.steps, &io::LogDataset::step_f64, &io::LogDataset::step_i32);
  if (!read_columns(a, "log_epoch_rows", c.epochs, &io::LogDataset::f64, &io::LogDataset::i32)) {  // checkpoints written before the columns: 7 doubles per row, then n_new
    t = get("log_epochs");
    const auto epochs = vector_from<double>(t);
    t = get("log_n_new");
    const auto n_new = vector_from<int32_t>(t);
    GNAS_CHECK(epochs.size() == n_new.size() * 7, "checkpoint: log_epochs and log_n_new disagree");
    for (std::size_t i = 0; i < n_new.size(); ++i) {
      const double* e = epochs.data() + 7 * i;
      io::EpochRecord r;
      r.lr = e[0], r.train_loss = e[1], r.train_acc = e[2], r.time_s = e[3], r.best_fitness = e[4],
      r.best_full_val_acc = e[5], r.test_acc = e[6], r.n_new = n_new[i];
      c.epochs.push_back(r);
    }
  }
  // Written since the nb201 space (absent in older checkpoints, whose runs had neither).
  torch::Tensor opt;  // fresh for every key (see get)
  if (a.try_read("log_population_rescored", opt)) c.population_rescored = vector_from<float>(opt);
  opt = torch::Tensor();
  if (a.try_read("log_rank_n", opt)) {
    c.n_rank = int(opt.item<int64_t>());
    c.rank_genomes = vector_from<uint8_t>(get("log_rank_genomes"));
    c.rank_index = vector_from<int32_t>(get("log_rank_index"));
    c.rank_table_test = vector_from<float>(get("log_rank_table_test"));
    c.rank_table_valid = vector_from<float>(get("log_rank_table_valid"));
    torch::Tensor params;  // absent in checkpoints written before the floor was recorded
    if (a.try_read("log_rank_table_params", params)) c.rank_table_params = vector_from<float>(params);
    c.rank_epoch = vector_from<int32_t>(get("log_rank_epoch"));
    c.rank_score = vector_from<float>(get("log_rank_score"));
    c.rank_tau = vector_from<double>(get("log_rank_tau"));
    c.rank_rho = vector_from<double>(get("log_rank_rho"));
    const auto n = std::size_t(std::max(0, c.n_rank)), rows = c.rank_epoch.size();
    GNAS_CHECK(c.rank_score.size() == rows * n && c.rank_tau.size() == rows && c.rank_rho.size() == rows &&
                   (c.rank_index.empty() || c.rank_index.size() == n) &&
                   (c.rank_table_params.empty() || c.rank_table_params.size() == n),
               "checkpoint: the log's ranking rows are inconsistent");
  }
  t = get("log_generation_genomes");
  c.generation_genomes = vector_from<uint8_t>(t);
  t = get("log_generation_fitness");
  c.generation_fitness = vector_from<float>(t);
  t = get("log_generation_epoch");
  const auto ge = vector_from<int32_t>(t);
  c.generation_epoch.assign(ge.begin(), ge.end());
  torch::Tensor gn_t;
  if (a.try_read("log_generation_n_new", gn_t)) {
    const auto gn = vector_from<int32_t>(gn_t);
    c.generation_n_new.assign(gn.begin(), gn.end());
  } else {  // a checkpoint written before /ga/generation/n_new existed
    c.generation_n_new.assign(c.generation_epoch.size(), -1);
  }
  t = get("log_population_genomes");
  c.population_genomes = vector_from<uint8_t>(t);
  t = get("log_population_fitness");
  c.population_fitness = vector_from<float>(t);
  t = get("log_best_genome");
  c.best_genome = vector_from<uint8_t>(t);
  t = get("log_best_fitness");
  c.best_fitness = t.item<float>();
  const std::size_t rows = c.generation_epoch.size(), len = std::size_t(c.genome_length);
  GNAS_CHECK(c.generation_genomes.size() == rows * std::size_t(c.n_g) * len && c.generation_n_new.size() == rows &&
                 c.generation_fitness.size() == rows * std::size_t(c.n_g) &&
                 c.population_genomes.size() == rows * std::size_t(c.n_p) * len &&
                 c.population_fitness.size() == rows * std::size_t(c.n_p),
             "checkpoint: the log's generation rows are inconsistent");
  return c;
}

torch::Tensor rng_tensor(const Rng& r) {
  std::vector<int64_t> words;
  for (auto w : r.state()) words.push_back(static_cast<int64_t>(w));
  return torch::tensor(words, torch::kInt64);
}
Rng rng_from(const torch::Tensor& t) {
  GNAS_CHECK(t.numel() == 4, "checkpoint: RNG state must have 4 words, has ", t.numel());
  Rng::State s{};
  auto c = t.contiguous();
  for (int i = 0; i < 4; ++i) s[i] = static_cast<std::uint64_t>(c.data_ptr<int64_t>()[i]);
  Rng r;
  r.set_state(s);
  return r;
}
std::vector<ga::Genome> genomes_from(const torch::Tensor& t) {
  std::vector<ga::Genome> out;
  auto c = t.contiguous();
  for (int64_t i = 0; i < c.size(0); ++i) {
    const uint8_t* p = c[i].data_ptr<uint8_t>();
    out.emplace_back(p, p + c.size(1));
  }
  return out;
}

/// net->load replaces each tensor wholesale (shape included) with what the archive holds: check
/// afterwards that every parameter and buffer kept the shape the network was built with, and on a
/// mismatch put the network's own tensors back (a fallback checkpoint is then checked against the
/// real network, not against the rejected file's shapes).
void load_weights_checked(nn::Supernet& net, torch::serialize::InputArchive& weights, const std::string& path) {
  std::vector<std::pair<std::string, torch::Tensor>> before;  // copies of the network's own tensors
  for (const auto& p : net->named_parameters()) before.emplace_back(p.key(), p.value().detach().clone());
  for (const auto& b : net->named_buffers()) before.emplace_back(b.key(), b.value().detach().clone());
  net->load(weights);
  std::map<std::string, torch::Tensor> now;
  for (const auto& p : net->named_parameters()) now[p.key()] = p.value();
  for (const auto& b : net->named_buffers()) now[b.key()] = b.value();
  for (const auto& [name, original] : before) {
    if (now[name].sizes() == original.sizes()) continue;
    const std::string message = detail::concat(path, ": its weights do not fit the network: ", name, " is ",
                                               now[name].sizes(), " in the file, ", original.sizes(), " in the network");
    torch::NoGradGuard no_grad;
    for (auto& [key, tensor] : before) now[key].set_(tensor);
    throw IoError(message);
  }
}

/// The GA state of a checkpoint: format 4's `ga_state` (ga/state.h), or formats 2-3's four tensors.
ga::GaState read_ga_state(torch::serialize::InputArchive& a, int64_t version, const std::string& path,
                          int64_t length) {
  if (version >= 4) {
    torch::Tensor t;
    a.read("ga_state", t);
    GNAS_CHECK_AS(IoError, t.scalar_type() == torch::kUInt8 && t.dim() == 1, path, ": malformed ga_state");
    const auto c = t.contiguous();
    const std::vector<std::uint8_t> bytes(c.data_ptr<uint8_t>(), c.data_ptr<uint8_t>() + c.numel());
    const std::string what = path + ": ga_state";
    ga::GaStateShape shape = ga::shape_of(bytes, what);
    GNAS_CHECK_AS(IoError, shape.length == std::size_t(length), what, ": genomes of ", shape.length,
                  " genes, the network's space has ", length);
    return ga::decode_state(bytes, shape, what);
  }
  torch::Tensor pop, fit, gen, rng;
  a.read("population", pop);
  a.read("fitness", fit);
  a.read("generation", gen);
  a.read("ga_rng", rng);
  GNAS_CHECK_AS(IoError, pop.dim() == 2 && gen.dim() == 2 && fit.numel() == pop.size(0) &&
                             (pop.size(0) == 0 || pop.size(1) == length) && (gen.size(0) == 0 || gen.size(1) == length),
                path, ": the GA state's tensors do not agree (population ", pop.sizes(), ", fitness ", fit.sizes(),
                ", generation ", gen.sizes(), ", ", length, " genes)");
  ga::GaState out;
  const auto genomes = genomes_from(pop);
  const auto f = fit.to(torch::kFloat32).contiguous();
  for (std::size_t i = 0; i < genomes.size(); ++i) out.population.push_back({genomes[i], f.data_ptr<float>()[i]});
  out.generation = genomes_from(gen);
  out.rng = rng_from(rng).state();
  return out;
}

/// What a sealed checkpoint holds, checked before any of it is used: a seal proves the bytes are
/// the ones written, not that they make sense (an edited or foreign file can be resealed). An
/// IoError names the file and the field, and load_checkpoint falls back to previous.pt.
void check_contents(const std::string& path, const space::Space& space, const ga::GaState& ga,
                    const std::vector<Rng>& data_rngs, const torch::Tensor& doubles) {
  const auto check_genome = [&](const space::Genome& g, const char* field, std::size_t i) {
    try {
      space.validate(g);
    } catch (const ConfigError& e) {
      throw IoError(detail::concat(path, ": ", field, "[", i, "] is not a genome of the ", space.name(), " space (",
                                   e.what(), ")"));
    }
  };
  for (std::size_t i = 0; i < ga.population.size(); ++i) {
    check_genome(ga.population[i].genome, "population", i);
    GNAS_CHECK_AS(IoError, !std::isnan(ga.population[i].fitness), path, ": population[", i, "] has a NaN fitness");
  }
  for (std::size_t i = 0; i < ga.generation.size(); ++i) check_genome(ga.generation[i], "generation", i);
  // xoshiro256's all-zero state is a fixed point: a generator in it draws 0 forever.
  const auto zero = [](const Rng::State& st) { return st[0] == 0 && st[1] == 0 && st[2] == 0 && st[3] == 0; };
  GNAS_CHECK_AS(IoError, !zero(ga.rng), path, ": ga_rng is all zeros (not a state a generator can be in)");
  for (const auto& r : data_rngs)
    GNAS_CHECK_AS(IoError, !zero(r.state()), path, ": data_rng is all zeros (not a state a generator can be in)");
  const double epoch_seconds = doubles[1].item<double>();
  GNAS_CHECK_AS(IoError, std::isfinite(epoch_seconds) && epoch_seconds >= 0, path, ": impossible epoch time ",
                epoch_seconds);
}

void read_into(const std::string& path, nn::Supernet& net, torch::optim::SGD& sgd, RunState& s) {
  torch::serialize::InputArchive a;
  open_sealed_archive(path, a);
  torch::Tensor format, scalars, doubles, data_rng, data_start, torch_rng;
  a.read("format", format);
  const int64_t version = format.numel() == 1 ? format.item<int64_t>() : -1;
  GNAS_CHECK_AS(IoError, version >= 2 && version <= kCheckpointFormat, path, ": unsupported checkpoint format ",
                version, " (this gnas reads 2 to ", kCheckpointFormat, ")");
  torch::Tensor cuda_rng, scaler;  // format 3, when the run has them
  a.try_read("cuda_rng", cuda_rng);
  a.try_read("scaler_state", scaler);
  a.read("scalars", scalars);
  a.read("doubles", doubles);
  const ga::GaState ga_state = read_ga_state(a, version, path, net->space().length());
  a.read("data_rng", data_rng);
  a.read("data_rng_epoch_start", data_start);
  a.read("torch_rng", torch_rng);
  torch::serialize::InputArchive model, optim;
  a.read("model", model);
  a.read("optimizer", optim);
  io::LogContent log = read_log(a);
  GNAS_CHECK_AS(IoError, scalars.numel() == 3 && doubles.numel() == 3, path, ": malformed checkpoint scalars");
  const int64_t epoch = scalars[0].item<int64_t>(), step = scalars[1].item<int64_t>();
  GNAS_CHECK_AS(IoError, epoch >= 0 && step >= 0 && epoch < (1 << 24) && step < (1 << 30), path,
                ": impossible epoch ", epoch, " / step ", step);
  check_contents(path, net->space(), ga_state, {rng_from(data_rng), rng_from(data_start)}, doubles);
  // Everything parsed and checked: now apply it (a failure above leaves net, sgd and s untouched).
  load_weights_checked(net, model, path);
  sgd.load(optim);
  s.epoch = static_cast<int>(scalars[0].item<int64_t>());
  s.step = static_cast<int>(scalars[1].item<int64_t>());
  s.correct = scalars[2].item<int64_t>();
  s.loss_sum = doubles[0].item<double>();
  s.epoch_seconds = doubles[1].item<double>();
  s.best_metric = doubles[2].item<double>();
  s.population = ga_state.population;
  s.generation = ga_state.generation;
  s.ga_rng.set_state(ga_state.rng);
  s.data_rng = rng_from(data_rng);
  s.data_rng_epoch_start = rng_from(data_start);
  s.log = std::move(log);
  at::Generator cpu_generator = at::detail::getDefaultCPUGenerator();  // a handle to the shared generator
  cpu_generator.set_state(torch_rng);
  // Drop-path and dropout draw on the tensors' device: its generator continues where it stopped.
  const auto device = net->parameters().front().device();
  if (cuda_rng.defined() && cuda_rng.numel() > 0 && device.is_cuda()) {
    at::Generator cuda_generator = at::globalContext().defaultGenerator(device);
    cuda_generator.set_state(cuda_rng);
  }
  s.scaler_state = scaler.defined() && scaler.numel() > 0 ? scaler : torch::Tensor();
}

}  // namespace

void save_checkpoint(const std::string& dir, nn::Supernet& net, torch::optim::SGD& sgd, const RunState& s) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  GNAS_CHECK_AS(IoError, !ec, "cannot create '", dir, "': ", ec.message());
  torch::serialize::OutputArchive a, model, optim;
  const int64_t length = net->space().length();
  a.write("format", torch::tensor({kCheckpointFormat}));
  a.write("scalars", torch::tensor({int64_t(s.epoch), int64_t(s.step), s.correct}));
  a.write("doubles", torch::tensor({s.loss_sum, s.epoch_seconds, s.best_metric}, torch::kFloat64));
  const auto ga_state = ga::encode_state(s.population, s.generation, s.ga_rng, std::size_t(length));
  a.write("ga_state", bytes_tensor(ga_state.data(), ga_state.size()));
  a.write("data_rng", rng_tensor(s.data_rng));
  a.write("data_rng_epoch_start", rng_tensor(s.data_rng_epoch_start));
  a.write("torch_rng", at::detail::getDefaultCPUGenerator().get_state());
  const auto device = net->parameters().front().device();
  if (device.is_cuda()) a.write("cuda_rng", at::globalContext().defaultGenerator(device).get_state());
  if (s.scaler_state.defined()) a.write("scaler_state", s.scaler_state);
  net->save(model);
  sgd.save(optim);
  a.write("model", model);
  a.write("optimizer", optim);
  write_log(a, s.log);
  const std::string tmp = dir + "/latest.pt.tmp", latest = dir + "/latest.pt", previous = dir + "/previous.pt";
  // Serialized in memory first: a full disk fails in one plain write, and the temporary file goes.
  io::write_file_synced(tmp, seal_archive(a));
  try {
    if (io::path_exists(latest)) io::rename_file(latest, previous);
    io::rename_file(tmp, latest);
  } catch (...) {
    std::filesystem::remove(tmp, ec);
    throw;
  }
}

/// A retrained model file (sealed: see seal_archive): the network's shape, genome and dataset next
/// to its weights, so that `evaluate` can rebuild it without the config and check the data.
void save_model(const std::string& path, nn::Supernet& net, const std::string& dataset, Precision precision,
                const data::DataOptions& data) {
  torch::serialize::OutputArchive archive, weights;
  const auto& o = net->options();
  archive.write("gnas_format", torch::tensor({int64_t{2}}));
  archive.write("gnas_shape", torch::tensor({o.channels, o.cells, int64_t(o.blocks), o.num_classes}));
  // How the genome is built: without it (files of gnas before net.compat) a model is paper/per-slot.
  archive.write("gnas_net", torch::tensor({int64_t(o.compat), int64_t(o.share_slots)}));
  archive.write("gnas_precision", string_tensor(precision_name(precision)));
  archive.write("gnas_space", string_tensor(o.space));  // without it (files before nb201): the paper's
  // What the synthetic test split was made from (the CIFAR test split is a file): evaluate rebuilds
  // the same images, not the defaults' (which scored another set: 66.5% against the run's 70.0%).
  archive.write("gnas_synthetic_test", torch::tensor({int64_t(data.synthetic_test), int64_t(data.synthetic_seed)}));
  std::vector<int64_t> genes(net->genome().begin(), net->genome().end());
  archive.write("gnas_genome", torch::tensor(genes));
  archive.write("gnas_dataset", torch::from_blob(const_cast<char*>(dataset.data()), {int64_t(dataset.size())},
                                                 torch::kUInt8).clone());
  net->save(weights);
  archive.write("model", weights);
  io::write_file_atomic(path, seal_archive(archive));
}

LoadedModel load_model(const std::string& path_or_dir, const torch::Device& device) {
  std::string path = path_or_dir;
  if (io::is_directory(path)) path += "/model_last.pt";  // the final model: no selection on the test set
  GNAS_CHECK_AS(IoError, io::path_exists(path), "--model '", path, "': no such file");
  torch::serialize::InputArchive archive, weights;
  torch::Tensor format, shape, genes, dataset;
  open_sealed_archive(path, archive);
  try {
    archive.read("gnas_format", format);
    archive.read("gnas_shape", shape);
    archive.read("gnas_genome", genes);
    archive.read("gnas_dataset", dataset);
    archive.read("model", weights);
  } catch (const c10::Error& e) {
    throw IoError("--model '" + path + "': not a gnas model file (" + std::string(e.what_without_backtrace()) + ")");
  }
  // The header's entries as plain numbers and text, checked without libtorch (train/model_header.h).
  // gnas writes them as int64; any integer type is read, a float is refused (converting a NaN or an
  // out-of-range float to an integer is undefined).
  auto ints = [&path](const torch::Tensor& t) {
    GNAS_CHECK_AS(IoError, at::isIntegralType(t.scalar_type(), /*includeBool=*/true), "--model '", path,
                  "': a header entry holds ", t.scalar_type(), " numbers, not integers");
    return vector_from<int64_t>(t.to(torch::kInt64));
  };
  train::ModelHeaderFields f;
  try {
    f.format = ints(format);
    f.shape = ints(shape);
    f.genes = ints(genes);
    torch::Tensor entry;  // fresh for every key (see get in read_log)
    if (archive.try_read("gnas_net", entry)) f.net = ints(entry);
    entry = torch::Tensor();
    if (archive.try_read("gnas_synthetic_test", entry)) f.synthetic_test = ints(entry);
    entry = torch::Tensor();
    if (archive.try_read("gnas_space", entry)) f.space = string_from(entry);
    entry = torch::Tensor();
    if (archive.try_read("gnas_precision", entry)) f.precision = string_from(entry);
  } catch (const c10::Error& e) {
    throw IoError("--model '" + path + "': its header's entries are not numbers and text (" +
                  std::string(e.what_without_backtrace()) + ")");
  }
  const train::ModelHeader header = train::check_model_header(f, path);
  nn::NetworkOptions o(header.net, header.num_classes, header.genome);
  LoadedModel m;
  m.precision = header.precision;
  m.synthetic_test = header.synthetic_test;
  try {
    m.net = nn::make_network(o);
    load_weights_checked(m.net, weights, "--model '" + path + "'");
  } catch (const IoError& e) {
    throw IoError(detail::concat(e.what(), " (header: space ", o.space, ", C=", o.channels, " N_cell=", o.cells, " N_b=", o.blocks,
                                 " classes=", o.num_classes, ")"));
  } catch (const std::exception& e) {
    const auto* ce = dynamic_cast<const c10::Error*>(&e);
    throw IoError(detail::concat("--model '", path, "': its weights do not fit its header (space ", o.space, ", C=", o.channels,
                                 " N_cell=", o.cells, " N_b=", o.blocks, " classes=", o.num_classes,
                                 "): ", ce ? ce->what_without_backtrace() : e.what()));
  }
  m.net->to(device);
  m.dataset = std::string(reinterpret_cast<const char*>(dataset.contiguous().data_ptr<uint8_t>()),
                          std::size_t(dataset.numel()));
  return m;
}

std::string seal_archive(torch::serialize::OutputArchive& archive) {
  std::ostringstream out;
  try {
    archive.save_to(out);
  } catch (const c10::Error& e) {
    throw IoError(std::string("cannot serialize an archive: ") + e.what_without_backtrace());
  }
  return io::seal_bytes(out.str());
}

void open_sealed_archive(const std::string& path, torch::serialize::InputArchive& archive) {
  const std::string bytes = io::read_file(path, std::uint64_t(1) << 40);  // checkpoints and models: any size
  const std::size_t size = io::sealed_payload_size(bytes, path);
  try {
    archive.load_from(bytes.data(), size, torch::Device(torch::kCPU));
  } catch (const c10::Error& e) {
    throw IoError(path + ": not a readable archive (" + e.what_without_backtrace() + ")");
  }
}

std::string load_checkpoint(const std::string& dir, nn::Supernet& net, torch::optim::SGD& sgd, RunState& state) {
  std::string first_error;
  std::vector<std::string> rejected;
  // latest.pt.tmp is complete (its seal says so) only when a save stopped between its renames.
  for (const char* name : {"latest.pt", "latest.pt.tmp", "previous.pt"}) {
    const std::string path = dir + "/" + name;
    if (!io::path_exists(path)) {
      if (first_error.empty() && std::string(name) == "latest.pt") first_error = path + ": missing";
      continue;
    }
    try {
      read_into(path, net, sgd, state);
      if (!first_error.empty())
        GNAS_LOG(WARN) << "the latest checkpoint could not be used (" << first_error << "); resumed from " << path
                       << " instead";
      // The next save renames latest.pt onto previous.pt: a rejected file must not take the place
      // of the good one. Kept aside for inspection.
      for (const auto& bad : rejected) {
        const std::string aside = bad + ".damaged-" + utc_timestamp();
        if (std::rename(bad.c_str(), aside.c_str()) == 0) GNAS_LOG(WARN) << "kept " << bad << " as " << aside;
      }
      return path;
    } catch (const std::exception& e) {
      std::string what = dynamic_cast<const c10::Error*>(&e)
                             ? static_cast<const c10::Error&>(e).what_without_backtrace()
                             : e.what();
      if (what.rfind(path, 0) != 0) what = path + ": " + what;  // every message names the file once
      if (first_error.empty()) first_error = what;
      rejected.push_back(path);
      GNAS_LOG(WARN) << "cannot resume from " << what;
    }
  }
  throw IoError("no usable checkpoint in '" + dir + "' (" + first_error + "); start a new run instead of --resume");
}

}  // namespace gnas::train
