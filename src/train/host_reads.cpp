#include "gnas/train/host_reads.h"

#include <atomic>

namespace gnas::train {
namespace {
std::atomic<int64_t> g_reads{0};
}
int64_t host_reads() { return g_reads.load(std::memory_order_relaxed); }
void count_host_read() { g_reads.fetch_add(1, std::memory_order_relaxed); }
}  // namespace gnas::train
