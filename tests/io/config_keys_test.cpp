// The config-key roles (io/config_keys.h) are plain strings: each must name a key that a run's
// resolved configuration (config.ini) has, or the resume check, gnas runs and gnas-analysis would
// silently treat a misspelt key as absent.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "gnas/cli/options.h"
#include "gnas/io/config_keys.h"
#include "gnas/io/ini.h"

namespace {

std::set<std::string> keys_of(gnas::cli::RunCommand command) {
  std::vector<std::string> args = {"--out", "unused-run-dir"};
  if (command == gnas::cli::RunCommand::kRetrain) {
    std::string genome;  // 60 genes of the paper's space: every input 0, every op 0
    for (int i = 0; i < 60; ++i) genome += i ? " 0" : "0";
    args.insert(args.end(), {"--genome", genome});
  }
  const auto parsed = gnas::cli::parse_run_command(command, args);
  std::set<std::string> keys;
  for (const auto& [key, value] : gnas::io::parse_ini(parsed.config.config_text)) keys.insert(key);
  return keys;
}

TEST(ConfigKeysTest, EveryRoleNamesAKeyOfARunsConfiguration) {
  const auto search = keys_of(gnas::cli::RunCommand::kSearch);
  const auto retrain = keys_of(gnas::cli::RunCommand::kRetrain);
  ASSERT_GT(search.size(), 30u);  // the whole resolved configuration, not an empty parse
  std::set<std::string> any(search.begin(), search.end());
  any.insert(retrain.begin(), retrain.end());
  for (const auto& key : gnas::io::operational_keys()) EXPECT_TRUE(any.count(key)) << "operational: " << key;
  for (const auto& key : gnas::io::structural_keys()) {
    EXPECT_TRUE(search.count(key)) << "structural, not in a search's config.ini: " << key;
    EXPECT_TRUE(retrain.count(key) || key.rfind("data.", 0) == 0 || key == "space")
        << "structural, not in a retrain's config.ini: " << key;
  }
  for (const auto& key : gnas::io::search_structural_keys()) EXPECT_TRUE(search.count(key)) << "search: " << key;
  for (const auto& key : gnas::io::own_column_keys()) EXPECT_TRUE(any.count(key)) << "own column: " << key;
  for (const auto& [old_name, new_name] : gnas::io::renamed_keys()) {
    EXPECT_TRUE(search.count(new_name)) << old_name << " was renamed to " << new_name << ", which no run has";
    EXPECT_EQ(gnas::io::current_key(old_name), new_name);
  }
  // The roles do not overlap where they contradict: an operational key is never structural.
  for (const auto& key : gnas::io::operational_keys()) {
    for (const auto& s : gnas::io::structural_keys()) EXPECT_NE(key, s);
    for (const auto& s : gnas::io::search_structural_keys()) EXPECT_NE(key, s);
  }
}

}  // namespace
