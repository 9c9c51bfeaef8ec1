#pragma once
/// Training helpers shared by search, retrain, evaluate and bench.
#include <memory>
#include <optional>
#include <string>
#include <torch/optim/sgd.h>
#include <torch/types.h>
#include <vector>

#include "gnas/train/options.h"
#include "gnas/core/rng.h"
#include "gnas/data/dataset.h"
#include "gnas/distributed/communicator.h"
#include "gnas/nn/supernet.h"

namespace gnas::train {

/// auto picks CUDA when available (device local_rank modulo the device count, so each rank of a
/// node gets its own GPU), else the CPU; cuda without a CUDA device is a ConfigError.
torch::Device select_device(const DeviceSpec& spec, int local_rank = 0);
/// threads > 0: torch::set_num_threads(threads); 0 leaves libtorch's default. Warns when the
/// threads outnumber the CPUs this process may run on (its affinity: what srun or mpirun gave it).
void apply_threads(int threads);
/// CPUs this process may run on (its affinity mask).
int usable_cpus();
/// CUDA: the most memory the caching allocator had allocated on `device` since the last
/// reset_peak_memory, in MiB; NaN on a CPU.
double peak_memory_mib(const torch::Device& device);
void reset_peak_memory(const torch::Device& device);

/// The network of a run's [net] options: the supernet, or the fixed network of `fixed`.
nn::NetworkOptions network_options(const nn::NetOptions& net, int64_t num_classes,
                                   std::optional<search::Genome> fixed = std::nullopt);

/// SGD with Nesterov momentum and weight decay (DESIGN §5). Parameters whose gradient is
/// undefined at step() are skipped entirely: no momentum and no weight decay reach them.
std::unique_ptr<torch::optim::SGD> make_sgd(const std::vector<torch::Tensor>& params, const TrainOptions& t);
/// Learning rate of 0-based `epoch`: kStep divides by 10 at 50% and 75% of the epochs; kCosine anneals
/// from lr towards lr_min.
double lr_at(const TrainOptions& t, int epoch);
void set_lr(torch::optim::SGD& sgd, double lr);
/// Makes the gradients of `params` undefined again (not zero), so the next step skips the
/// parameters a later genome does not use.
void clear_grads(const std::vector<torch::Tensor>& params);

/// Fisher-Yates permutation of [0, n) from `rng` (identical on every device).
std::vector<int64_t> permutation(int64_t n, Rng& rng);
/// `k` distinct indices of [0, n), drawn from `rng`.
std::vector<int64_t> sample_without_replacement(int64_t n, int64_t k, Rng& rng);

/// A training batch: gathers `idx` from the split, normalizes and (optionally) augments on the
/// split's device. Returns {images float [B,3,32,32], labels int64 [B]}.
std::pair<torch::Tensor, torch::Tensor> make_batch(const data::Split& split, const std::vector<int64_t>& idx,
                                                   bool augment, int cutout, Rng& rng);
/// This rank's shard [begin, end) of a global batch `idx`. The augmentation of the whole global
/// batch is drawn (so every rank's `rng` stays in step) and the shard's part is applied: a sample
/// is augmented identically whatever the number of ranks.
std::pair<torch::Tensor, torch::Tensor> make_batch_shard(const data::Split& split, const std::vector<int64_t>& idx,
                                                         int64_t begin, int64_t end, bool augment, int cutout,
                                                         Rng& rng);

/// Top-1 accuracy in % of the network's current genome on images/labels, in batches of `batch`,
/// without gradients, in eval mode. top5 (optional) receives the top-5 accuracy in %.
double evaluate_accuracy(nn::Supernet& net, const torch::Tensor& images_u8, const torch::Tensor& labels,
                         int64_t batch, double* top5 = nullptr);

/// Number of correct top-1 predictions over the chunks k * batch (k = first, first + stride, ...)
/// of images/labels: with first = rank and stride = size, ranks split an evaluation exactly as one
/// process would batch it (batch-statistics BN sees the same batches). correct5 (optional) receives
/// the number of top-5 hits, loss_sum (optional) the summed cross-entropy. Eval mode, no gradients.
int64_t count_correct(nn::Supernet& net, const torch::Tensor& images_u8, const torch::Tensor& labels, int64_t batch,
                      int64_t first, int64_t stride, int64_t* correct5 = nullptr, double* loss_sum = nullptr);

/// Fitness (top-1 % on images/labels) of every genome of `generation`. The genomes are split among
/// the ranks of `comm` as evenly as possible (any count over any number of ranks); each scores its
/// share and the list is summed over ranks, so every rank returns the same list, equal to a one-rank
/// evaluation. Collective.
std::vector<float> evaluate_generation(nn::Supernet& net, const std::vector<search::Genome>& generation,
                                       const torch::Tensor& images_u8, const torch::Tensor& labels, int64_t batch,
                                       distributed::Communicator& comm);

/// UTC time as ISO-8601.
std::string now_iso8601();

/// Options that fix the shape of a run (network, data split, batch): --resume refuses to change them.
extern const std::vector<std::string> kStructuralKeys;
/// --resume: compares the run's stored configuration (INI text) with the new one, before anything is
/// written. A changed key of `structural` is a ConfigError naming every such change; other changes
/// (lr, epochs, n_v, seed, ...) are accepted and returned as "key old -> new, ..." for a warning and
/// the log's resume history (threads, device and the launcher options are not listed).
std::string check_resume_config(const std::string& stored, const std::string& now,
                                const std::vector<std::string>& structural);
/// The resume history line for the log: when, from which checkpoint, at which epoch/step, how many
/// ranks, and what changed.
std::string resume_record(const std::string& checkpoint, int epoch, int step, int world, const std::string& changes);

}  // namespace gnas::train
