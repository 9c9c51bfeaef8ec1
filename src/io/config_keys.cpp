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
  static const std::vector<std::string> keys = {"ga.population",  "ga.generation", "search.strategy",
                                                "search.rescore", "nb201.table",   "nb201.rank_cells",
                                                "search.fitness", "proxy.channels", "proxy.cells",
                                                "proxy.batch",    "proxy.score",   "proxy.warm_start"};
  return keys;
}

const std::vector<std::string>& own_column_keys() {
  static const std::vector<std::string> keys = {"seed", "search.strategy", "search.fitness", "train.epochs"};
  return keys;
}

const std::vector<std::pair<std::string, std::string>>& renamed_keys() {
  static const std::vector<std::pair<std::string, std::string>> keys = {
      {"ga.strategy", "search.strategy"}, {"ga.n_v", "search.n_v"},
      {"ga.generations_per_epoch", "search.generations_per_epoch"}, {"ga.bn_eval", "search.bn_eval"},
      {"ga.rescore", "search.rescore"}};
  return keys;
}

std::string current_key(const std::string& key) {
  for (const auto& [old_name, new_name] : renamed_keys())
    if (key == old_name) return new_name;
  return key;
}

bool is_operational_key(const std::string& key) {
  const auto& k = operational_keys();
  return std::find(k.begin(), k.end(), key) != k.end();
}

std::string config_keys_json() {
  return nlohmann::json{{"operational", operational_keys()},
                        {"structural", structural_keys()},
                        {"search_structural", search_structural_keys()},
                        {"own_column", own_column_keys()},
                        {"renamed", renamed_keys()}}
      .dump();
}

}  // namespace gnas::io
