// The data channel over the control communicator, make_data_channel, and the bucketed gradient
// reducer (see grad_reducer.h).
#include "gnas/distributed/grad_reducer.h"

#include <torch/torch.h>

#include "gnas/config.h"
#include "gnas/core/error.h"

namespace gnas::distributed {

#if GNAS_WITH_NCCL
// src/distributed/nccl_communicator.cpp
std::unique_ptr<DataChannel> make_nccl_channel(Communicator& control, const torch::Device& device, double timeout_s);
#endif

#if !GNAS_WITH_NCCL
bool ranks_share_a_gpu(Communicator&, const torch::Device&) { return false; }
#endif

namespace {
/// Gradients over the control communicator itself (serial: nothing to do; MPI: host-staged).
class ControlChannel final : public DataChannel {
 public:
  explicit ControlChannel(Communicator& c) : c_(c) {}
  int rank() const override { return c_.rank(); }
  int size() const override { return c_.size(); }
  void allreduce_sum_(torch::Tensor& t) override { c_.allreduce_sum_(t); }
  std::string name() const override { return c_.backend_name(); }

 private:
  Communicator& c_;
};
}  // namespace

std::unique_ptr<DataChannel> make_data_channel(Backend gradients, Communicator& control, const torch::Device& device,
                                               double timeout_s) {
  if (gradients != Backend::kNccl) return std::make_unique<ControlChannel>(control);
#if GNAS_WITH_NCCL
  return make_nccl_channel(control, device, timeout_s);
#else
  (void)device;
  (void)timeout_s;
  throw ConfigError("--dist.backend nccl: this gnas was built without NCCL (scripts/build --cuda builds it)");
#endif
}

GradReducer::GradReducer(DataChannel& channel, int64_t bucket_bytes)
    : channel_(channel), bucket_bytes_(std::max<int64_t>(1, bucket_bytes)) {}

std::vector<std::pair<std::size_t, std::size_t>> GradReducer::buckets(const std::vector<torch::Tensor>& params) const {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t i = 0;
  while (i < params.size()) {
    int64_t used = 0;
    std::size_t j = i;
    while (j < params.size()) {
      const auto& g = params[j].grad();
      GNAS_CHECK(g.defined(), "GradReducer: parameter ", j, " has no gradient");
      const int64_t bytes = g.numel() * static_cast<int64_t>(g.element_size());
      if (j > i && used + bytes > bucket_bytes_) break;
      used += bytes;
      ++j;
    }
    out.emplace_back(i, j);
    i = j;
  }
  return out;
}

void GradReducer::average(const std::vector<torch::Tensor>& params, double local_fraction) {
  collectives_ = 0;
  if (channel_.size() == 1 && local_fraction == 1.0) return;  // nothing to average
  GNAS_CHECK(!params.empty(), "GradReducer: no parameters");
  const auto opts = params.front().grad().options();
  for (const auto& [begin, end] : buckets(params)) {
    int64_t elems = 0;
    for (std::size_t k = begin; k < end; ++k) {
      const auto& g = params[k].grad();
      GNAS_CHECK(g.scalar_type() == opts.dtype() && g.device() == opts.device(), "GradReducer: parameter ", k,
                 "'s gradient is ", g.scalar_type(), " on ", g.device(), ", the first is ", opts.dtype(), " on ",
                 opts.device());
      elems += g.numel();
    }
    const int64_t reusable = bucket_bytes_ / static_cast<int64_t>(params[begin].grad().element_size());
    torch::Tensor flat;
    if (elems <= reusable) {
      if (!buffer_.defined() || buffer_.device() != opts.device() || buffer_.scalar_type() != opts.dtype() ||
          buffer_.numel() < reusable)
        buffer_ = torch::empty({reusable}, opts);
      flat = buffer_.narrow(0, 0, elems);
    } else {
      flat = torch::empty({elems}, opts);  // one oversized gradient: a buffer for this call only
    }
    int64_t at = 0;
    for (std::size_t k = begin; k < end; ++k) {
      const auto& g = params[k].grad();
      flat.narrow(0, at, g.numel()).copy_(g.reshape({-1}));
      at += g.numel();
    }
    flat.mul_(local_fraction);
    channel_.allreduce_sum_(flat);
    ++collectives_;
    at = 0;
    for (std::size_t k = begin; k < end; ++k) {
      auto g = params[k].grad();
      g.copy_(flat.narrow(0, at, g.numel()).view_as(g));
      at += g.numel();
    }
  }
}

}  // namespace gnas::distributed
