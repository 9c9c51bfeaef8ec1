#pragma once
/// The network side of a search space (search/space.h): every space builds its networks behind
/// this one interface, in two forms. As a supernet it holds every op of every choice and
/// `set_genome` picks the path a batch trains; as a fixed network (retrain) it holds the ops of
/// one genome only, and that genome is its only path. The epoch loop, the GA rounds, checkpoints
/// and model files use this type and never ask which space it is.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <vector>

#include "gnas/core/compat.h"
#include "gnas/nn/options.h"
#include "gnas/space/space.h"

namespace gnas::nn {

using space::Genome;

/// What a network is built from. `space` picks the implementation; the rest is its shape. Fields
/// a space does not use are ignored by it (nb201 has no blocks, dropout, compat or slots).
/// What a network is built from: the run's [net] options, its number of classes, and for a fixed
/// network (retrain) its genome. One struct with the CLI's: a network option is one field.
struct NetworkOptions : NetOptions {
  int64_t num_classes = 10;
  std::optional<Genome> fixed;  ///< set: the fixed network of this genome (retrain); unset: supernet
  NetworkOptions() = default;
  NetworkOptions(const NetOptions& net, int64_t classes, std::optional<Genome> genome = std::nullopt)
      : NetOptions(net), num_classes(classes), fixed(std::move(genome)) {}
};

class SupernetImpl : public torch::nn::Module {
 public:
  ~SupernetImpl() override = default;
  /// Chooses the active path. Supernet: any valid genome of the space; fixed network: its own only.
  virtual void set_genome(const Genome& g) = 0;
  virtual const Genome& genome() const = 0;
  /// x: normalized images [N, 3, 32, 32] -> logits [N, num_classes].
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  /// The parameters the current genome uses: exactly those that receive a gradient from a
  /// forward/backward pass (in registration order of their modules).
  virtual std::vector<torch::Tensor> active_parameters() const = 0;
  /// Per-sample drop-path keep probability on op outputs in training mode (1 = off).
  virtual void set_drop_path_keep(double keep) = 0;
  /// Training batches are rows [begin, begin + N) of a global batch of `global` (data parallelism):
  /// random masks are drawn for the global batch. global = 0: each batch is whole.
  virtual void set_batch_shard(int64_t global, int64_t begin) = 0;
  virtual const space::Space& space() const = 0;
  virtual const NetworkOptions& options() const = 0;
  bool is_fixed() const { return options().fixed.has_value(); }
  /// In eval mode, every BN uses the batch's statistics (true) or the running ones (false).
  void set_bn_batch_stats_in_eval(bool on);
};
/// The holder (a shared pointer with `->`), written out: TORCH_MODULE would instantiate a
/// constructor that builds the abstract class.
class Supernet : public torch::nn::ModuleHolder<SupernetImpl> {
 public:
  Supernet(std::nullptr_t) : ModuleHolder(nullptr) {}  // NOLINT(google-explicit-constructor)
  Supernet(std::shared_ptr<SupernetImpl> impl) : ModuleHolder(std::move(impl)) {}  // NOLINT
};

/// The network of options.space: a supernet, or the fixed network of options.fixed (validated
/// against the space: a genome of another space is a ConfigError).
Supernet make_network(const NetworkOptions& options);

}  // namespace gnas::nn
