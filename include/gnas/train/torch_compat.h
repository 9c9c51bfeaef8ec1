#pragma once
/// Everything that differs between the libtorch versions gnas builds against: Debian's 1.13 (the
/// default CPU build) and PyPI's 2.x (the CUDA build). Nothing else in gnas tests TORCH_VERSION_*.
#include <ATen/autocast_mode.h>
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>
#include <torch/version.h>

namespace gnas::train::compat {

// The device-generic autocast calls arrived in 2.4; before, one switch per device family.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
inline bool autocast_enabled(c10::DeviceType d) { return at::autocast::is_autocast_enabled(d); }
inline c10::ScalarType autocast_dtype(c10::DeviceType d) { return at::autocast::get_autocast_dtype(d); }
inline void set_autocast(c10::DeviceType d, bool on, c10::ScalarType dtype) {
  at::autocast::set_autocast_enabled(d, on);
  at::autocast::set_autocast_dtype(d, dtype);
}
#else
// 1.13 (to 2.3): set_enabled is CUDA's switch, set_cpu_enabled the CPU's.
inline bool autocast_enabled(c10::DeviceType d) {
  return d == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
inline c10::ScalarType autocast_dtype(c10::DeviceType d) {
  return d == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
inline void set_autocast(c10::DeviceType d, bool on, c10::ScalarType dtype) {
  if (d == c10::DeviceType::CUDA) {
    at::autocast::set_enabled(on);
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(on);
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
}
#endif

/// Autocast to `dtype` on `device` for this guard's life, like Python's `torch.autocast`
/// (thread-local; nests; the cast cache is cleared when the outermost guard ends; the previous
/// switch and dtype come back). `enabled = false` leaves the state as it is.
class AutocastGuard {
 public:
  AutocastGuard(c10::DeviceType device, c10::ScalarType dtype, bool enabled = true)
      : device_(device), was_(autocast_enabled(device)), previous_dtype_(autocast_dtype(device)), enabled_(enabled) {
    if (!enabled_) return;
    set_autocast(device_, true, dtype);
    at::autocast::increment_nesting();
  }
  ~AutocastGuard() {
    if (!enabled_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    set_autocast(device_, was_, previous_dtype_);
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  c10::DeviceType device_;
  bool was_;
  c10::ScalarType previous_dtype_;
  bool enabled_;
};

}  // namespace gnas::train::compat
