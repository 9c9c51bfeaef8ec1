#pragma once
/// The one form of a bound check on an option, for the options structs' validate() functions:
/// a ConfigError naming the option as the command line spells it ("--net.channels must be in
/// [1, 4096], got 0"). Plain C++.
#include <string>

#include "gnas/core/error.h"

namespace gnas {

template <class T>
void check_option(bool ok, const char* flag, const std::string& rule, const T& got) {
  GNAS_CHECK_AS(ConfigError, ok, "--", flag, " must be ", rule, ", got ", got);
}

}  // namespace gnas
