// Precompiled header of the torch-using targets: the torch C++ frontend costs ~15 s per
// translation unit to parse, so it is parsed once per target instead.
#pragma once
#include <torch/torch.h>
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>
