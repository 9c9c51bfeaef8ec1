// The stored configuration against a resume's, the resume record, and the clock (resume_config.h).
#include "gnas/train/resume_config.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <sstream>

#include "gnas/core/error.h"
#include "gnas/io/config_keys.h"
#include "gnas/io/ini.h"

namespace gnas::train {

std::string check_resume_config(const std::string& stored, const std::string& now,
                                const std::vector<std::string>& structural) {
  // Keys added after runs were written: an old config.ini lacks them, and its run had this value.
  static const std::map<std::string, std::string> kValueBeforeTheKey = {
      {"space", "paper"}, {"net.compat", "paper"}, {"net.share_slots", "false"}, {"train.precision", "fp32"},
      {"train.lr_min", "0"}, {"train.grad_clip", "0"}, {"search.rescore", "none"}, {"nb201.table", ""},
      {"nb201.rank_every", "0"}, {"nb201.rank_cells", "100"},
      {"train.channels_last", "false"}, {"search.fitness", "supernet"}, {"proxy.channels", "16"},
      {"proxy.cells", "5"}, {"proxy.batch", "128"}, {"proxy.score", "naswot+synflow"}, {"proxy.warm_start", "0"},
      {"proxy.table", ""}, {"ga.selection", "auto"}};
  std::ostringstream refused, accepted, own_values;
  for (auto c : io::diff_ini(stored, now)) {
    const auto legacy = kValueBeforeTheKey.find(c.key);
    if (c.before.empty() && legacy != kValueBeforeTheKey.end()) {
      c.before = legacy->second;
      if (c.before == c.after) continue;
    }
    const bool is_structural = std::find(structural.begin(), structural.end(), c.key) != structural.end();
    const std::string change = "--" + c.key + " " + (c.before.empty() ? "(unset)" : c.before) + " -> " +
                               (c.after.empty() ? "(unset)" : c.after);
    if (is_structural) {
      refused << (refused.tellp() > 0 ? ", " : "") << change;
      if (!c.before.empty()) own_values << " --" << c.key << " " << c.before;
    } else if (!io::is_operational_key(c.key)) {
      accepted << (accepted.tellp() > 0 ? ", " : "") << change;
    }
  }
  GNAS_CHECK_AS(ConfigError, refused.tellp() == 0, "--resume cannot change the shape of a run: ", refused.str(),
                ". Resume with the run's own values (", own_values.str().empty() ? std::string("drop these options")
                : "give" + own_values.str(), "), or start a new run with --out");
  return accepted.str();
}

std::string resume_record(const std::string& checkpoint, int epoch, int step, int world, const std::string& changes) {
  return detail::concat(now_iso8601(), " resumed from ", checkpoint, " at epoch ", epoch + 1, " step ", step, " on ",
                        world, " rank(s)", changes.empty() ? "" : "; changed: " + changes, "\n");
}

std::string now_iso8601() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace gnas::train
