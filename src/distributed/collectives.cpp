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
                what, " differs from rank 0's; give every rank the same command line and config files");
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
