#pragma once
/// --resume: the stored configuration against the new one, the resume record, and the clock. Plain C++.
#include <string>
#include <vector>

namespace gnas::train {

/// UTC time as ISO-8601.
std::string now_iso8601();

/// --resume: compares the run's stored configuration (INI text) with the new one, before anything is
/// written. A changed key of `structural` is a ConfigError naming every such change; other changes
/// (lr, epochs, n_v, seed, ...) are accepted and returned as "key old -> new, ..." for a warning and
/// the log's resume history (the operational keys of io/config_keys.h are not listed). `structural`:
/// io::structural_keys(), plus io::search_structural_keys() for a search.
std::string check_resume_config(const std::string& stored, const std::string& now,
                                const std::vector<std::string>& structural);
/// The resume history line for the log: when, from which checkpoint, at which epoch/step, how many
/// ranks, and what changed.
std::string resume_record(const std::string& checkpoint, int epoch, int step, int world, const std::string& changes);

}  // namespace gnas::train
