// Equality of two logs' contents (io::first_difference), for the checkpoint's round trip and the
// resume tests: every field a checkpoint stores, NaN equal to NaN.
#include <cmath>
#include <sstream>
#include <type_traits>

#include "gnas/io/hdf5_log.h"
#include "gnas/io/log_schema.h"

namespace gnas::io {
namespace {

template <class T>
bool same(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return a == b || (std::isnan(a) && std::isnan(b));
  return a == b;
}

template <class T>
std::string compare(const char* name, const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size())
    return std::string(name) + ": " + std::to_string(a.size()) + " values against " + std::to_string(b.size());
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same(a[i], b[i])) {
      std::ostringstream m;
      m << name << "[" << i << "]: " << +a[i] << " against " << +b[i];
      return m.str();
    }
  return "";
}

template <class T>
std::string compare(const char* name, const T& a, const T& b) {
  if (same(a, b)) return "";
  std::ostringstream m;
  m << name << ": '" << a << "' against '" << b << "'";
  return m.str();
}

}  // namespace

std::string first_difference(const LogContent& a, const LogContent& b) {
  const LogAttributes &x = a.attrs, &y = b.attrs;
  for (const std::string& d :
       {compare("attrs.command", x.command, y.command), compare("attrs.config", x.config, y.config),
        compare("attrs.version", x.version, y.version), compare("attrs.seed", x.seed, y.seed),
        compare("attrs.world_size", x.world_size, y.world_size), compare("attrs.dataset", x.dataset, y.dataset),
        compare("attrs.started_at", x.started_at, y.started_at),
        compare("attrs.resume_history", x.resume_history, y.resume_history),
        compare("attrs.strategy", x.strategy, y.strategy), compare("attrs.fitness", x.fitness, y.fitness),
        compare("attrs.net_compat", x.net_compat, y.net_compat), compare("attrs.run_id", x.run_id, y.run_id),
        compare("attrs.source_run", x.source_run, y.source_run),
        compare("attrs.source_run_id", x.source_run_id, y.source_run_id),
        compare("attrs.source_epoch", x.source_epoch, y.source_epoch),
        compare("genome_length", a.genome_length, b.genome_length), compare("n_g", a.n_g, b.n_g),
        compare("n_p", a.n_p, b.n_p), compare("with_ga", a.with_ga, b.with_ga),
        compare("epochs", a.epochs.size(), b.epochs.size()), compare("steps", a.steps.size(), b.steps.size())})
    if (!d.empty()) return d;
  for (const auto& d : log_schema()) {  // every record column, through the schema's own field pointers
    for (std::size_t e = 0; e < a.epochs.size(); ++e) {
      if (d.f64 && !same(a.epochs[e].*d.f64, b.epochs[e].*d.f64))
        return compare(d.path, a.epochs[e].*d.f64, b.epochs[e].*d.f64) + " (epoch row " + std::to_string(e) + ")";
      if (d.i32 && a.epochs[e].*d.i32 != b.epochs[e].*d.i32)
        return compare(d.path, a.epochs[e].*d.i32, b.epochs[e].*d.i32) + " (epoch row " + std::to_string(e) + ")";
    }
    for (std::size_t s = 0; s < a.steps.size(); ++s) {
      if (d.step_f64 && !same(a.steps[s].*d.step_f64, b.steps[s].*d.step_f64))
        return compare(d.path, a.steps[s].*d.step_f64, b.steps[s].*d.step_f64) + " (step row " + std::to_string(s) + ")";
      if (d.step_i32 && a.steps[s].*d.step_i32 != b.steps[s].*d.step_i32)
        return compare(d.path, a.steps[s].*d.step_i32, b.steps[s].*d.step_i32) + " (step row " + std::to_string(s) + ")";
    }
  }
  for (const std::string& d :
       {compare("generation_genomes", a.generation_genomes, b.generation_genomes),
        compare("generation_fitness", a.generation_fitness, b.generation_fitness),
        compare("generation_epoch", a.generation_epoch, b.generation_epoch),
        compare("generation_n_new", a.generation_n_new, b.generation_n_new),
        compare("population_genomes", a.population_genomes, b.population_genomes),
        compare("population_fitness", a.population_fitness, b.population_fitness),
        compare("best_genome", a.best_genome, b.best_genome), compare("best_fitness", a.best_fitness, b.best_fitness),
        compare("population_rescored", a.population_rescored, b.population_rescored),
        compare("n_rank", a.n_rank, b.n_rank), compare("rank_genomes", a.rank_genomes, b.rank_genomes),
        compare("rank_index", a.rank_index, b.rank_index),
        compare("rank_table_test", a.rank_table_test, b.rank_table_test),
        compare("rank_table_valid", a.rank_table_valid, b.rank_table_valid),
        compare("rank_table_params", a.rank_table_params, b.rank_table_params),
        compare("rank_epoch", a.rank_epoch, b.rank_epoch), compare("rank_score", a.rank_score, b.rank_score),
        compare("rank_tau", a.rank_tau, b.rank_tau), compare("rank_rho", a.rank_rho, b.rank_rho)})
    if (!d.empty()) return d;
  return "";
}

}  // namespace gnas::io
