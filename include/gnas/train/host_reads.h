#pragma once
/// Reads of device values on the host. On a GPU each one waits for the device to catch up, so the
/// training step makes none: the loss and accuracy accumulate on the device and are read at progress
/// intervals. Every such read in gnas's training code goes through read_on_host, which counts it,
/// so the reads per step are observable (bench's JSON) and testable on the CPU.
#include <cstdint>
#include <torch/types.h>

namespace gnas::train {

/// Device-to-host reads made through read_on_host by this process so far.
int64_t host_reads();
void count_host_read();

template <class T>
T read_on_host(const torch::Tensor& t) {
  count_host_read();
  return t.item<T>();
}

}  // namespace gnas::train
