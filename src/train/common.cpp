#include <torch/torch.h>

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <map>
#include <sstream>
#include <thread>

#include "gnas/config.h"
#include "gnas/core/error.h"
#include "gnas/core/log.h"
#include "gnas/data/augment.h"
#include "gnas/distributed/collectives.h"
#include "gnas/io/ini.h"
#include "gnas/train/common.h"
#include "gnas/train/host_reads.h"
#if GNAS_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace gnas::train {

namespace {
/// Why no CUDA device can be used, and what to do: the build has no CUDA, or the driver sees none.
std::string no_cuda_reason() {
  if (!GNAS_WITH_CUDA)
    return "this gnas is built against a CPU-only libtorch; build the CUDA variant with scripts/bootstrap --cuda "
           "&& scripts/build --cuda (binary build-cuda/gnas)";
  const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
  return detail::concat("this gnas has CUDA, but the CUDA driver sees no device (CUDA_VISIBLE_DEVICES=",
                        visible ? "'" + std::string(visible) + "'" : std::string("unset"),
                        "); check nvidia-smi on this node and the job's GPU request");
}

/// The environment's sign that GPUs were allocated to this process, or "" when there is none.
std::string allocated_gpus_sign() {
  // Lists of GPU indices ("-1" and "NoDevFiles" mean none), then counts ("0" means none).
  for (const char* v : {"CUDA_VISIBLE_DEVICES", "SLURM_JOB_GPUS", "SLURM_STEP_GPUS"}) {
    const char* value = std::getenv(v);
    if (value && *value && std::string(value) != "-1" && std::string(value) != "NoDevFiles")
      return detail::concat(v, "=", value);
  }
  for (const char* v : {"SLURM_GPUS", "SLURM_GPUS_ON_NODE", "SLURM_GPUS_PER_TASK", "SLURM_GPUS_PER_NODE"}) {
    const char* value = std::getenv(v);
    if (value && *value && std::string(value) != "0") return detail::concat(v, "=", value);
  }
  return "";
}
}  // namespace

double peak_memory_mib(const torch::Device& device) {
#if GNAS_WITH_CUDA
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.has_index() ? device.index() : 0);
    return double(stats.allocated_bytes[0].peak) / (1024.0 * 1024.0);  // [0]: every pool (AGGREGATE)
  }
#endif
  (void)device;
  return std::nan("");
}

void reset_peak_memory(const torch::Device& device) {
#if GNAS_WITH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.has_index() ? device.index() : 0);
#endif
  (void)device;
}

torch::Device select_device(const DeviceSpec& spec, int local_rank) {
  const bool cuda = torch::cuda::is_available();
  const auto local_gpu = [&] {
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % torch::cuda::device_count()));
  };
  switch (spec.kind) {
    case DeviceSpec::Kind::kAuto: {
      if (cuda) return local_gpu();
      // GPUs were allocated (by Slurm, or CUDA_VISIBLE_DEVICES) but none can be used: running on the
      // CPU instead would burn the allocation for hours at a fraction of the speed. Refuse.
      const std::string sign = allocated_gpus_sign();
      GNAS_CHECK_AS(ConfigError, sign.empty(), "--device auto: GPUs were allocated to this job (", sign,
                    ") but none can be used: ", no_cuda_reason(), ". To run on the CPU anyway, give --device cpu");
      return torch::Device(torch::kCPU);
    }
    case DeviceSpec::Kind::kCpu: return torch::Device(torch::kCPU);
    case DeviceSpec::Kind::kCuda: break;
  }
  GNAS_CHECK_AS(ConfigError, cuda, "--device cuda", spec.index >= 0 ? ":" + std::to_string(spec.index) : "", ": ",
                no_cuda_reason(), "; or use --device cpu");
  if (spec.index < 0) return local_gpu();
  GNAS_CHECK_AS(ConfigError, spec.index < static_cast<int>(torch::cuda::device_count()), "--device cuda:", spec.index,
                ": this machine has ", torch::cuda::device_count(), " CUDA device(s)");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(spec.index));
}

nn::NetworkOptions network_options(const nn::NetOptions& net, int64_t num_classes, std::optional<search::Genome> fixed) {
  nn::NetworkOptions o;
  o.space = net.space;
  o.channels = net.channels;
  o.cells = net.cells;
  o.n_blocks = net.blocks;
  o.num_classes = num_classes;
  o.dropout = net.dropout;
  o.compat = net.compat;
  o.share_slots = net.share_slots;
  o.fixed = std::move(fixed);
  return o;
}

const std::vector<std::string> kStructuralKeys = {
    "space", "net.channels",      "net.cells",       "net.blocks",      "net.compat",        "net.share_slots",      "train.batch",       "data.val_size",
    "data.train_limit",  "data.synthetic_train", "data.synthetic_val", "data.synthetic_test", "data.synthetic_seed"};

std::string check_resume_config(const std::string& stored, const std::string& now,
                                const std::vector<std::string>& structural) {
  // Keys added after runs were written: an old config.ini lacks them, and its run had this value.
  static const std::map<std::string, std::string> kValueBeforeTheKey = {
      {"space", "paper"}, {"net.compat", "paper"}, {"net.share_slots", "false"}, {"train.precision", "fp32"},
      {"train.lr_min", "0"}, {"train.grad_clip", "0"}, {"ga.rescore", "none"}, {"nb201.table", ""},
      {"nb201.rank_every", "0"}, {"nb201.rank_cells", "100"},
      {"train.channels_last", "false"}};
  std::ostringstream refused, accepted, own_values;
  for (auto c : io::diff_ini(stored, now)) {
    const auto legacy = kValueBeforeTheKey.find(c.key);
    if (c.before.empty() && legacy != kValueBeforeTheKey.end()) {
      c.before = legacy->second;
      if (c.before == c.after) continue;
    }
    const bool is_structural = std::find(structural.begin(), structural.end(), c.key) != structural.end();
    const std::string change = "--" + c.key + " " + (c.before.empty() ? "(unset)" : c.before) + " -> " +
                               (c.after.empty() ? "(unset)" : c.after);
    if (is_structural) {
      refused << (refused.tellp() > 0 ? ", " : "") << change;
      if (!c.before.empty()) own_values << " --" << c.key << " " << c.before;
    } else if (c.key != "threads" && c.key != "device" && c.key != "dist.backend" && c.key != "log.all_ranks" && c.key != "log.progress_seconds" && c.key != "log.every_steps" &&
               c.key != "dist.timeout") {
      accepted << (accepted.tellp() > 0 ? ", " : "") << change;
    }
  }
  GNAS_CHECK_AS(ConfigError, refused.tellp() == 0, "--resume cannot change the shape of a run: ", refused.str(),
                ". Resume with the run's own values (", own_values.str().empty() ? std::string("drop these options")
                : "give" + own_values.str(), "), or start a new run with --out");
  return accepted.str();
}

std::string resume_record(const std::string& checkpoint, int epoch, int step, int world, const std::string& changes) {
  return detail::concat(now_iso8601(), " resumed from ", checkpoint, " at epoch ", epoch + 1, " step ", step, " on ",
                        world, " rank(s)", changes.empty() ? "" : "; changed: " + changes, "\n");
}

int usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return int(std::thread::hardware_concurrency());
  return CPU_COUNT(&set);
}

void apply_threads(int threads) {
  if (threads > 0) torch::set_num_threads(threads);
  const int cpus = usable_cpus();
  if (cpus > 0 && torch::get_num_threads() > cpus)
    GNAS_LOG(WARN) << torch::get_num_threads() << " torch threads, but this process may run on " << cpus
                   << " CPU(s) only: the threads share them and every step waits. Under srun give each task its CPUs "
                      "(--cpus-per-task, or SRUN_CPUS_PER_TASK, which the job scripts export), or lower --threads";
}

std::unique_ptr<torch::optim::SGD> make_sgd(const std::vector<torch::Tensor>& params, const TrainOptions& t) {
  return std::make_unique<torch::optim::SGD>(
      params, torch::optim::SGDOptions(t.lr).momentum(t.momentum).nesterov(t.nesterov).weight_decay(t.weight_decay));
}

double lr_at(const TrainOptions& t, int epoch) {
  if (t.schedule == Schedule::kCosine) return t.lr_min + 0.5 * (t.lr - t.lr_min) * (1.0 + std::cos(M_PI * epoch / t.epochs));
  double lr = t.lr;  // milestones at 50% and 75% of the epochs, e.g. epochs 155 and 233 of 310
  if (epoch >= 0.5 * t.epochs) lr *= 0.1;
  if (epoch >= 0.75 * t.epochs) lr *= 0.1;
  return lr;
}

void set_lr(torch::optim::SGD& sgd, double lr) {
  for (auto& group : sgd.param_groups()) static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
}

void clear_grads(const std::vector<torch::Tensor>& params) {
  for (auto p : params) p.mutable_grad() = torch::Tensor();
}

std::vector<int64_t> permutation(int64_t n, Rng& rng) {
  std::vector<int64_t> p(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[rng.uniform_int(static_cast<std::uint64_t>(i + 1))]);
  return p;
}

std::vector<int64_t> sample_without_replacement(int64_t n, int64_t k, Rng& rng) {
  GNAS_CHECK(k <= n, "sample_without_replacement: ", k, " of ", n);
  auto p = permutation(n, rng);
  p.resize(static_cast<std::size_t>(k));
  return p;
}

std::pair<torch::Tensor, torch::Tensor> make_batch(const data::Split& split, const std::vector<int64_t>& idx,
                                                   bool augment, int cutout, Rng& rng) {
  return make_batch_shard(split, idx, 0, static_cast<int64_t>(idx.size()), augment, cutout, rng);
}

std::pair<torch::Tensor, torch::Tensor> make_batch_shard(const data::Split& split, const std::vector<int64_t>& idx,
                                                         int64_t begin, int64_t end, bool augment, int cutout,
                                                         Rng& rng) {
  const std::vector<int64_t> local(idx.begin() + begin, idx.begin() + end);
  auto index = data::upload(torch::tensor(local, torch::kInt64), split.images.device());
  auto x = data::normalize(split.images.index_select(0, index));
  if (augment) {
    const auto all = data::draw_augment(static_cast<int64_t>(idx.size()), 4, x.size(2), x.size(3), rng);
    data::AugmentDraw mine;
    for (int64_t i = begin; i < end; ++i) {
      mine.dy.push_back(all.dy[i]);
      mine.dx.push_back(all.dx[i]);
      mine.flip.push_back(all.flip[i]);
      mine.cy.push_back(all.cy[i]);
      mine.cx.push_back(all.cx[i]);
    }
    static const std::vector<double> black = data::normalized_black();  // padding: black pixels
    x = data::augment(x, mine, 4, cutout, black);
  }
  return {x, split.labels.index_select(0, index)};
}

int64_t count_correct(nn::Supernet& net, const torch::Tensor& images_u8, const torch::Tensor& labels, int64_t batch,
                      int64_t first, int64_t stride, int64_t* correct5, double* loss_sum) {
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  const int64_t n = labels.size(0);
  auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(labels.device()));
  auto top5 = correct.clone();
  auto loss = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(labels.device()));
  for (int64_t k = first; k * batch < n; k += stride) {
    const int64_t i = k * batch, e = std::min(n, i + batch);
    auto logits = net->forward(data::normalize(images_u8.slice(0, i, e)));
    auto y = labels.slice(0, i, e);
    correct += logits.argmax(1).eq(y).sum();
    if (correct5)
      top5 += std::get<1>(logits.topk(std::min<int64_t>(5, logits.size(1)), 1)).eq(y.unsqueeze(1)).any(1).sum();
    if (loss_sum)
      loss += torch::nn::functional::cross_entropy(
                  logits.to(torch::kFloat32), y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                  .to(torch::kFloat64);
  }
  net->train(was_training);
  if (correct5) *correct5 = read_on_host<int64_t>(top5);
  if (loss_sum) *loss_sum = read_on_host<double>(loss);
  return read_on_host<int64_t>(correct);
}

double evaluate_accuracy(nn::Supernet& net, const torch::Tensor& images_u8, const torch::Tensor& labels,
                         int64_t batch, double* top5) {
  const double n = static_cast<double>(std::max<int64_t>(1, labels.size(0)));
  int64_t correct5 = 0;
  const int64_t correct = count_correct(net, images_u8, labels, batch, 0, 1, top5 ? &correct5 : nullptr);
  if (top5) *top5 = 100.0 * correct5 / n;
  return 100.0 * correct / n;
}

std::vector<float> evaluate_generation(nn::Supernet& net, const std::vector<search::Genome>& generation,
                                       const torch::Tensor& images_u8, const torch::Tensor& labels, int64_t batch,
                                       distributed::Communicator& comm) {
  const int64_t n = static_cast<int64_t>(generation.size());
  const auto [begin, end] = distributed::shard_range(n, comm.rank(), comm.size());
  auto fitness = torch::zeros({n}, torch::kFloat32);
  for (int64_t i = begin; i < end; ++i) {
    net->set_genome(generation[i]);
    fitness[i] = static_cast<float>(evaluate_accuracy(net, images_u8, labels, batch));
  }
  comm.allreduce_sum_(fitness);  // each entry is non-zero on one rank only: the sum is exact
  return std::vector<float>(fitness.data_ptr<float>(), fitness.data_ptr<float>() + n);
}

std::string now_iso8601() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace gnas::train
