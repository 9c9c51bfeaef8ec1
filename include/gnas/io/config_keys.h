#pragma once
/// What each key of a run's configuration (config.ini) means when runs are compared or resumed: the
/// one list that gnas's resume check, `gnas runs` and (through the log's `config_keys` attribute)
/// gnas-analysis all use. Plain C++.
#include <string>
#include <utility>
#include <vector>

namespace gnas::io {

/// How a run is executed, not what it computes (threads, device, backend, logging, timeouts): never
/// a difference between two experiments, and changed freely on resume.
const std::vector<std::string>& operational_keys();
/// The shape of every run (space, network, batch, data split): a resume refuses to change them.
const std::vector<std::string>& structural_keys();
/// The search's own shape (GA sizes, strategy, re-scoring, ground-truth table and ranking set), on
/// top of structural_keys().
const std::vector<std::string>& search_structural_keys();
/// Shown in their own column by `gnas runs` and the report (seed, strategy, epochs), so not among
/// the differing keys.
const std::vector<std::string>& own_column_keys();

/// Keys that were renamed, as (old, new) pairs: [ga] strategy, n_v, generations_per_epoch, bn_eval
/// and rescore became [search]'s, since they are the search's, not the GA's (a random search has them
/// too). Config files, command lines and the configs stored in old runs are read under the new names.
const std::vector<std::pair<std::string, std::string>>& renamed_keys();
/// `key`'s current name ("ga.n_v" -> "search.n_v"; any other key is itself).
std::string current_key(const std::string& key);

bool is_operational_key(const std::string& key);
/// The lists as JSON ({"operational": [...], "structural": [...], "search_structural": [...],
/// "own_column": [...], "renamed": [[old, new], ...]}): the log's `config_keys` attribute, which
/// gnas-analysis reads.
std::string config_keys_json();

}  // namespace gnas::io
