#pragma once
/// One description per option. Each options struct lists its options once, in a static member
///
///   template <class Self, class V> static void visit_options(Self& o, V& v) {
///     v.option("train.epochs", o.epochs, "epochs. Paper: 310 search, 630 retrain", above(0));
///     v.choice("train.schedule", o.schedule, "step (the paper) | cosine", kSchedules);
///   }
///
/// and every user walks that list: the CLI turns it into flags and INI keys (the name, with its
/// help, its bound and the field's default), validate() checks each bound and names the option at
/// fault ("--train.epochs must be > 0, got 0"), and config.ini is written from the parsed values.
/// Adding an option is its field and its line. The member is static, over a `Self` that is the
/// struct or a const one, so that one list serves the CLI, which writes the fields, and validate(),
/// which reads them. A visitor may skip what its command does not take:
/// `v.includes(OptionUse::kSearch)` is false in retrain's CLI, true when validating. Plain C++.
#include <cmath>
#include <cstdint>
#include <functional>
#include <sstream>
#include <type_traits>
#include <string>
#include <utility>
#include <vector>

#include "gnas/core/error.h"

namespace gnas {

/// The one form of a bound violation: "--net.channels must be in [1, 4096], got 0".
template <class T>
void check_option(bool ok, const char* flag, const std::string& rule, const T& got) {
  GNAS_CHECK_AS(ConfigError, ok, "--", flag, " must be ", rule, ", got ", got);
}

/// Which commands take a group of options (the search's own, or the fixed network's).
enum class OptionUse { kSearch, kFixedNetwork };

/// A bound on a numeric option's value: the test, and the rule as the error message states it.
/// (Options of every numeric type share one form; their values are compared as doubles, exact
/// for the integers options hold.)
struct Bound {
  std::function<bool(double)> ok;  ///< empty: any value
  std::string rule;
  template <class T>
  bool holds(const T& v) const {
    if constexpr (std::is_arithmetic_v<T>) return !ok || ok(static_cast<double>(v));
    else return !ok;  // a bound on a non-number is a mistake in a visit_options() list; it never holds
  }
};

namespace detail {
/// A bound's number as a person writes it: 4096, 0.5, 1e6.
inline std::string bound_text(double v) {
  if (v >= 1e5 && v == std::floor(v)) {
    const int e = static_cast<int>(std::round(std::log10(v)));
    if (std::pow(10.0, e) == v) return "1e" + std::to_string(e);
  }
  std::ostringstream out;
  out << v;
  return out.str();
}
}  // namespace detail

inline Bound at_least(double lo) {
  return {[lo](double v) { return v >= lo; }, ">= " + detail::bound_text(lo)};
}
inline Bound above(double lo) {
  return {[lo](double v) { return v > lo; }, "> " + detail::bound_text(lo)};
}
/// [lo, hi]; `note` follows the interval in the message (" seconds").
inline Bound in_closed(double lo, double hi, const std::string& note = "") {
  return {[lo, hi](double v) { return v >= lo && v <= hi; },
          "in [" + detail::bound_text(lo) + ", " + detail::bound_text(hi) + "]" + note};
}
/// [lo, hi)
inline Bound in_closed_open(double lo, double hi) {
  return {[lo, hi](double v) { return v >= lo && v < hi; },
          "in [" + detail::bound_text(lo) + ", " + detail::bound_text(hi) + ")"};
}
/// (lo, hi]
inline Bound in_open_closed(double lo, double hi, const std::string& note = "") {
  return {[lo, hi](double v) { return v > lo && v <= hi; },
          "in (" + detail::bound_text(lo) + ", " + detail::bound_text(hi) + "]" + note};
}

/// The names of an enum's values, in the order the help lists them.
template <class E>
using Choices = std::vector<std::pair<const char*, E>>;

/// "a, b or c"
template <class E>
std::string choice_list(const Choices<E>& choices) {
  std::string out;
  for (std::size_t i = 0; i < choices.size(); ++i)
    out += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + std::string(choices[i].first);
  return out;
}
/// The value named `text`; a ConfigError naming `flag` and the valid names otherwise.
template <class E>
E parse_choice(const Choices<E>& choices, const char* flag, const std::string& text) {
  for (const auto& [name, value] : choices)
    if (text == name) return value;
  throw ConfigError(detail::concat("--", flag, " must be ", choice_list(choices), ", got ", text));
}
template <class E>
const char* choice_name(const Choices<E>& choices, E value) {
  for (const auto& [name, v] : choices)
    if (v == value) return name;
  return "?";
}

/// The visitor that checks every bound (the options structs' validate()).
class OptionChecker {
 public:
  bool includes(OptionUse) const { return true; }
  template <class T>
  void option(const char* name, const T& value, const char*, const Bound& bound = {}) const {
    if (bound.ok || !bound.rule.empty()) check_option(bound.holds(value), name, bound.rule, value);
  }
  template <class E>
  void choice(const char*, const E&, const char*, const Choices<E>&) const {}
  template <class T, class Parse, class Print>
  void text(const char*, const T&, const char*, Parse, Print) const {}
};

/// Checks every bound of an options struct's visit_options() list; the struct's validate() adds the
/// checks that relate two options.
template <class Options>
void check_bounds(const Options& o) {
  OptionChecker checker;
  Options::visit_options(o, checker);
}

}  // namespace gnas
