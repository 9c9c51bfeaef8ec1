#include "gnas/distributed/collectives.h"

#include <torch/torch.h>

#include "gnas/core/error.h"

namespace gnas::distributed {

std::pair<int64_t, int64_t> shard_range(int64_t n, int rank, int size) {
  GNAS_CHECK(size >= 1 && rank >= 0 && rank < size, "shard_range: rank ", rank, " of ", size);
  const int64_t base = n / size, extra = n % size;
  const int64_t begin = rank * base + std::min<int64_t>(rank, extra);
  return {begin, begin + base + (rank < extra ? 1 : 0)};
}

GradSync::GradSync(Communicator& comm, int64_t bucket_bytes)
    : comm_(comm), bucket_elems_(std::max<int64_t>(1, bucket_bytes / 4)) {}

void GradSync::average(const std::vector<torch::Tensor>& params, double local_fraction, float& flag) {
  collectives_ = 0;
  if (comm_.size() == 1 && local_fraction == 1.0) return;  // nothing to average
  GNAS_CHECK(!params.empty(), "GradSync: no parameters");
  const auto& opts = params.front().grad().options();
  if (!buffer_.defined() || buffer_.device() != opts.device() || buffer_.scalar_type() != opts.dtype())
    buffer_ = torch::empty({bucket_elems_ + 1}, opts);  // the gradients' dtype (float32; float64 in tests)
  std::size_t i = 0;
  bool first = true;
  while (i < params.size() || first) {
    // Pack params [i, j) into the buffer; the first bucket carries the flag in its last slot.
    int64_t used = 0;
    std::size_t j = i;
    std::vector<std::pair<std::size_t, int64_t>> placed;  // (param index, offset)
    while (j < params.size()) {
      const auto& g = params[j].grad();
      GNAS_CHECK(g.defined(), "GradSync: parameter ", j, " has no gradient");
      const int64_t n = g.numel();
      if (used > 0 && used + n > bucket_elems_) break;
      if (n > bucket_elems_) {  // a single tensor larger than a bucket gets a buffer of its own
        buffer_ = torch::empty({n + 1}, opts);
        bucket_elems_ = n;
      }
      buffer_.narrow(0, used, n).copy_(g.reshape({-1}));
      placed.emplace_back(j, used);
      used += n;
      ++j;
    }
    auto bucket = buffer_.narrow(0, 0, used + (first ? 1 : 0));
    bucket.narrow(0, 0, used).mul_(local_fraction);
    if (first) bucket[used].fill_(flag);
    comm_.allreduce_sum_(bucket);
    ++collectives_;
    if (first) flag = bucket[used].item<float>();
    for (const auto& [k, off] : placed) {
      auto g = params[k].grad();
      g.copy_(buffer_.narrow(0, off, g.numel()).view_as(g));
    }
    i = j;
    first = false;
  }
}

void broadcast_bytes(Communicator& comm, std::vector<uint8_t>& bytes, int root) {
  if (comm.size() == 1) return;
  auto t = torch::from_blob(bytes.data(), {static_cast<int64_t>(bytes.size())}, torch::kUInt8);
  comm.broadcast_(t, root);
}

void check_same_on_all_ranks(Communicator& comm, std::uint64_t value, const std::string& what) {
  if (comm.size() == 1) return;
  auto t = torch::tensor({static_cast<int64_t>(value)}, torch::kInt64);
  comm.broadcast_(t, 0);
  GNAS_CHECK_AS(ConfigError, static_cast<std::uint64_t>(t.item<int64_t>()) == value, "rank ", comm.rank(), "'s ",
                what, " differs from rank 0's; give every rank the same options and config files");
}

void agree_on_failure(Communicator& comm, std::exception_ptr error) {
  if (comm.size() == 1) {
    if (error) std::rethrow_exception(error);
    return;
  }
  auto failed = torch::zeros({comm.size()}, torch::kInt32);
  if (error) failed[comm.rank()] = 1;
  comm.allreduce_sum_(failed);
  const auto nonzero = failed.nonzero();
  if (nonzero.numel() == 0) return;
  const int first = static_cast<int>(nonzero[0][0].item<int64_t>());
  if (comm.rank() != first) throw PeerFailed();
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    throw AgreedFailure(e.what(), exit_code_for(e));
  }
}

}  // namespace gnas::distributed
