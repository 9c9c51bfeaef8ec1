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

std::vector<std::uint8_t> open_with_root_id(Communicator& comm, std::size_t id_size,
                                            const std::function<std::vector<std::uint8_t>()>& make_id,
                                            const std::function<void(const std::vector<std::uint8_t>&)>& join) {
  std::vector<std::uint8_t> id(id_size, 0);
  std::exception_ptr error;
  if (comm.rank() == 0) {
    try {
      id = make_id();
      GNAS_CHECK_AS(CommError, id.size() == id_size, "the root's identifier has ", id.size(), " bytes, not ", id_size);
    } catch (...) {
      error = std::current_exception();
    }
  }
  // Agreed before the broadcast: a root that failed ends every rank, none is left in MPI_Bcast.
  agree_on_failure(comm, error);
  broadcast_bytes(comm, id, 0);
  try {
    join(id);
  } catch (...) {
    error = std::current_exception();
  }
  agree_on_failure(comm, error);
  return id;
}

}  // namespace gnas::distributed
