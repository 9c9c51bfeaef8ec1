#pragma once
/// Control helpers on top of a Communicator: batch sharding, byte broadcasts, and failure
/// agreement. The gradients have their own reducer: grad_reducer.h.
#include <cstdint>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gnas/core/error.h"
#include "gnas/distributed/communicator.h"

namespace gnas::distributed {

/// Rank `rank`'s share [begin, end) of `n` items split as evenly as possible among `size` ranks:
/// the first n % size ranks get one item more. Shares are contiguous and cover [0, n) exactly once.
std::pair<int64_t, int64_t> shard_range(int64_t n, int rank, int size);

/// Broadcasts a byte string of a size all ranks know. Collective.
void broadcast_bytes(Communicator& comm, std::vector<uint8_t>& bytes, int root);

/// Thrown on ranks that did not fail themselves when agree_on_failure finds that another rank did:
/// they exit non-zero without printing, so the job shows one error, from the lowest failing rank.
class PeerFailed : public Error {
 public:
  PeerFailed() : Error("another rank failed") {}
};

/// Thrown on the rank that reports an agreed failure (see agree_on_failure): every rank knows about
/// it, so the job can end with normal exits instead of MPI_Abort. The exit code is the original
/// error's (exit_code_for).
class AgreedFailure : public Error {
 public:
  AgreedFailure(const std::string& message, int code) : Error(message), code_(code) {}
  int exit_code() const noexcept override { return code_; }

 private:
  int code_;
};

/// Collective: compares `value` with rank 0's; on a rank whose value differs it throws ConfigError
/// "rank r's <what> differs from rank 0's". Combine with agree_on_failure so one rank reports.
void check_same_on_all_ranks(Communicator& comm, std::uint64_t value, const std::string& what);

/// Collective: every rank passes its own exception (or null). If any rank failed, the lowest failing
/// rank throws AgreedFailure with its message and the others throw PeerFailed. In a serial run the
/// exception is rethrown as it is. Use it where a failure is likely to be
/// local (setup: options, data, output directory), so that no rank waits forever in a collective.
void agree_on_failure(Communicator& comm, std::exception_ptr error);

/// Collective: opens something whose root makes an identifier that every rank needs to join (NCCL's
/// unique id). Rank 0 runs `make_id` (which must return `id_size` bytes); its failure is agreed
/// before the broadcast, so it ends every rank instead of leaving the others in the broadcast. Then
/// every rank runs `join(id)`, and a failure there is agreed as well. Returns the identifier.
std::vector<std::uint8_t> open_with_root_id(Communicator& comm, std::size_t id_size,
                                            const std::function<std::vector<std::uint8_t>()>& make_id,
                                            const std::function<void(const std::vector<std::uint8_t>&)>& join);

}  // namespace gnas::distributed
