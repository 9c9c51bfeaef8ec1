#include "gnas/ga/tabular.h"

#include <cmath>
#include <deque>

#include "gnas/core/error.h"

namespace gnas::ga::nb201 {

namespace {

/// Looks cells up, counting distinct ones, and keeps the best-so-far curve.
class Evaluator {
 public:
  Evaluator(const Table& t, const Fitness& f, int budget) : t_(t), f_(f), budget_(budget), seen_(kCells, 0) {
    curve_.best_valid.reserve(std::size_t(budget));
    curve_.best_test.reserve(std::size_t(budget));
    curve_.best_code.reserve(std::size_t(budget));
  }
  bool done() const { return int(curve_.best_valid.size()) >= budget_; }
  float operator()(const Genome& g) {
    const int code = encode(g);
    const double v = f_.by_code[std::size_t(code)];
    GNAS_CHECK_AS(DataError, !std::isnan(v), "the fitness '", f_.name, "' has no value for the cell ", arch_string(g),
                  " (", f_.codes.size(), " of ", kCells, " cells scored); GA and REA need every cell scored");
    if (!seen_[std::size_t(code)] && !done()) {
      seen_[std::size_t(code)] = 1;
      ticks_ = 0;
      if (best_ < 0 || v > f_.by_code[std::size_t(best_)]) best_ = code;
      curve_.best_valid.push_back(t_.valid[std::size_t(best_)]);
      curve_.best_test.push_back(t_.test[std::size_t(best_)]);
      curve_.best_code.push_back(best_);
    }
    return float(v);
  }
  /// Guards loops that could stop finding new cells (a converged population): a million rounds
  /// without a new cell end the run with an error.
  void tick(const char* strategy) {
    GNAS_CHECK_AS(Error, ++ticks_ < 1000000, strategy, " found no new cell in a million rounds after ",
                  curve_.best_valid.size(), " distinct cells; lower --budget");
  }
  Curve take() { return std::move(curve_); }

 private:
  const Table& t_;
  const Fitness& f_;
  int budget_;
  std::vector<std::uint8_t> seen_;
  int best_ = -1;
  long ticks_ = 0;
  Curve curve_;
};

void check_budget(int budget) {
  GNAS_CHECK_AS(ConfigError, budget >= 1 && budget <= kCells, "--budget ", budget, " must be in [1, ", kCells,
                "] (the number of NAS-Bench-201 cells)");
}

}  // namespace

Fitness valid_fitness(const Table& t) {
  Fitness f;
  f.by_code.assign(t.valid.begin(), t.valid.end());
  for (int c = 0; c < kCells; ++c) f.codes.push_back(c);
  return f;
}

Curve run_ga(const Table& t, const GaOptions& opt, int budget, Rng& rng) {
  return run_ga(t, valid_fitness(t), opt, budget, rng);
}
Curve run_random(const Table& t, int budget, Rng& rng) { return run_random(t, valid_fitness(t), budget, rng); }
Curve run_rea(const Table& t, const ReaOptions& opt, int budget, Rng& rng) {
  return run_rea(t, valid_fitness(t), opt, budget, rng);
}

Curve run_ga(const Table& t, const Fitness& f, const GaOptions& opt, int budget, Rng& rng) {
  check_budget(budget);
  const GeneSpace space = gene_space();
  Evaluator eval(t, f, budget);
  std::vector<Member> population;
  std::vector<Genome> generation = random_generation(space, opt.generation, rng);
  while (!eval.done()) {
    eval.tick("the GA");
    std::vector<Member> scored;
    for (const auto& g : generation) scored.push_back({g, eval(g)});
    population = replace(population, scored, opt.population).population;
    generation = next_generation(space, opt, population, rng);
  }
  return eval.take();
}

Curve run_random(const Table& t, const Fitness& f, int budget, Rng& rng) {
  check_budget(budget);
  const int n = int(f.codes.size());
  GNAS_CHECK_AS(ConfigError, budget <= n, "--budget ", budget, " is more than the ", n, " cells the fitness '", f.name,
                "' scores");
  Evaluator eval(t, f, budget);
  std::vector<int> order = f.codes;
  for (int i = 0; !eval.done(); ++i) {  // a partial Fisher-Yates shuffle: no repeats
    std::swap(order[std::size_t(i)], order[std::size_t(i) + rng.uniform_int(std::uint64_t(n - i))]);
    eval(decode(order[std::size_t(i)]));
  }
  return eval.take();
}

Curve run_rea(const Table& t, const Fitness& f, const ReaOptions& opt, int budget, Rng& rng) {
  check_budget(budget);
  GNAS_CHECK_AS(ConfigError, opt.population >= 1 && opt.sample >= 1, "--rea.population and --rea.sample must be >= 1");
  const GeneSpace space = gene_space();
  Evaluator eval(t, f, budget);
  std::deque<Member> population;
  while (int(population.size()) < opt.population && !eval.done()) {
    const Genome g = random_genome(space, rng);
    population.push_back({g, eval(g)});
  }
  while (!eval.done()) {
    eval.tick("REA");
    const Member* parent = nullptr;
    for (int s = 0; s < opt.sample; ++s) {
      const Member& m = population[std::size_t(rng.uniform_int(population.size()))];
      if (!parent || m.fitness > parent->fitness) parent = &m;
    }
    Genome child = parent->genome;
    const std::size_t edge = std::size_t(rng.uniform_int(kEdges));
    child[edge] = static_cast<std::uint8_t>((child[edge] + 1 + rng.uniform_int(kOps - 1)) % kOps);  // another op
    population.push_back({child, eval(child)});
    population.pop_front();
  }
  return eval.take();
}

}  // namespace gnas::ga::nb201
