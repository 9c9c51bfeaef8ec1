#include "gnas/io/config_keys.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace gnas::io {

const std::vector<std::string>& operational_keys() {
  static const std::vector<std::string> keys = {"threads",           "device",        "dist.backend",
                                                "dist.timeout",      "log.all_ranks", "log.progress_seconds",
                                                "log.every_steps"};
  return keys;
}

const std::vector<std::string>& structural_keys() {
  static const std::vector<std::string> keys = {
      "space",           "net.channels",         "net.cells",          "net.blocks",
      "net.compat",      "net.share_slots",      "train.batch",        "data.val_size",
      "data.train_limit", "data.synthetic_train", "data.synthetic_val", "data.synthetic_test",
      "data.synthetic_seed"};
  return keys;
}

const std::vector<std::string>& search_structural_keys() {
  static const std::vector<std::string> keys = {"ga.population", "ga.generation",  "ga.strategy",
                                                "ga.rescore",    "nb201.table",    "nb201.rank_cells"};
  return keys;
}

const std::vector<std::string>& own_column_keys() {
  static const std::vector<std::string> keys = {"seed", "ga.strategy", "train.epochs"};
  return keys;
}

bool is_operational_key(const std::string& key) {
  const auto& k = operational_keys();
  return std::find(k.begin(), k.end(), key) != k.end();
}

std::string config_keys_json() {
  return nlohmann::json{{"operational", operational_keys()},
                        {"structural", structural_keys()},
                        {"search_structural", search_structural_keys()},
                        {"own_column", own_column_keys()}}
      .dump();
}

}  // namespace gnas::io
