#include "gnas/io/log_reader.h"

#include <cmath>

#include "gnas/core/stats.h"

#include <hdf5.h>

#include <unistd.h>

#include <cstdio>

#include "gnas/core/error.h"
#include "gnas/io/files.h"
#include "gnas/io/hdf5_log.h"

namespace gnas::io {
namespace {

struct Closer {
  hid_t id;
  herr_t (*close)(hid_t);
  ~Closer() {
    if (id >= 0) close(id);
  }
};

std::string text_attr(hid_t file, const char* name) {
  if (H5Aexists(file, name) <= 0) return "";
  Closer a{H5Aopen(file, name, H5P_DEFAULT), H5Aclose};
  Closer t{H5Aget_type(a.id), H5Tclose};
  if (H5Tget_class(t.id) != H5T_STRING) return "";
  if (H5Tis_variable_str(t.id) > 0) {  // format_version 2
    char* text = nullptr;
    if (H5Aread(a.id, t.id, &text) < 0) return "";
    std::string v = text ? text : "";
    H5free_memory(text);
    return v;
  }
  std::string v(H5Tget_size(t.id), '\0');  // format_version 1: fixed length
  if (H5Aread(a.id, t.id, v.data()) < 0) return "";
  return v.substr(0, v.find('\0'));
}

template <class T>
T number_attr(hid_t file, const char* name, hid_t mem_type, T fallback) {
  if (H5Aexists(file, name) <= 0) return fallback;
  Closer a{H5Aopen(file, name, H5P_DEFAULT), H5Aclose};
  T v = fallback;
  return H5Aread(a.id, mem_type, &v) < 0 ? fallback : v;
}

template <class T>
std::vector<T> read_all(hid_t file, const std::string& name, hid_t mem_type, const std::string& path) {
  if (H5Lexists(file, name.c_str(), H5P_DEFAULT) <= 0) return {};
  Closer ds{H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose};
  GNAS_CHECK_AS(IoError, ds.id >= 0, path, ": cannot open ", name);
  Closer space{H5Dget_space(ds.id), H5Sclose};
  const hssize_t n = H5Sget_simple_extent_npoints(space.id);
  std::vector<T> out(std::size_t(n > 0 ? n : 0));
  if (!out.empty())
    GNAS_CHECK_AS(IoError, H5Dread(ds.id, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0, path,
                  ": cannot read ", name);
  return out;
}

/// `text` as a JSON string literal.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

LogSummary read_log_summary(const std::string& path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  GNAS_CHECK_AS(IoError, path_exists(path), path, ": no such file");
  // An SWMR reader: works on a log that a running job appends to, and on one a killed writer left.
  // A few metadata read attempts, not SWMR's default 100 with growing sleeps: a damaged file must
  // fail in a moment (it took 11 minutes), while a checksum read mid-write still gets retried.
  check_regular_file(path, std::uint64_t(1) << 40);  // a FIFO or a device would hang or never end
  Closer fapl{H5Pcreate(H5P_FILE_ACCESS), H5Pclose};
  H5Pset_metadata_read_attempts(fapl.id, 8);
  hid_t id = -1;
  for (int attempt = 0; attempt < 3 && id < 0; ++attempt) {  // a writer may hold it for a moment (its end)
    if (attempt) ::usleep(300000);
    id = H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl.id);
    if (id < 0) id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.id);
  }
  GNAS_CHECK_AS(IoError, id >= 0, path, ": not a readable HDF5 file");
  Closer file{id, H5Fclose};
  LogSummary s;
  const htri_t versioned = H5Aexists(id, "format_version");
  GNAS_CHECK_AS(IoError, versioned >= 0, path, ": damaged: its attributes cannot be read");
  GNAS_CHECK_AS(IoError, versioned > 0, path, ": no format_version attribute: not a gnas log");
  s.format_version = number_attr<int>(id, "format_version", H5T_NATIVE_INT, 0);
  GNAS_CHECK_AS(IoError, s.format_version == 1 || s.format_version == kLogFormatVersion, path, ": format_version ",
                s.format_version, " is not supported (1 or ", kLogFormatVersion, "); is this a gnas log?");
  s.command = text_attr(id, "command");
  s.dataset = text_attr(id, "dataset");
  s.strategy = text_attr(id, "strategy");
  s.source_run = text_attr(id, "source_run");
  s.source_epoch = number_attr<int>(id, "source_epoch", H5T_NATIVE_INT, 0);
  s.space = text_attr(id, "space");
  s.config = text_attr(id, "config");
  s.has_seed = H5Aexists(id, "seed") > 0;
  s.seed = number_attr<std::uint64_t>(id, "seed", H5T_NATIVE_UINT64, 0);
  if (H5Aexists(id, "status") > 0) {
    const std::string segments = text_attr(id, "segments");
    const std::string json = std::string("{\"status\": ") + quoted(text_attr(id, "status")) +
                             ", \"reason\": " + quoted(text_attr(id, "status_reason")) + ", \"command\": " +
                             quoted(s.command) + ", \"epochs_planned\": " +
                             std::to_string(number_attr<long long>(id, "epochs_planned", H5T_NATIVE_LLONG, 0)) +
                             ", \"updated_at\": " + quoted(text_attr(id, "updated_at")) +
                             ", \"segments\": " + (segments.empty() ? "[]" : segments) + "}";
    s.status = run_status_from_json(json, path + " (status attributes)");
  }
  s.world_size = number_attr<int>(id, "world_size", H5T_NATIVE_INT, 0);
  s.best_fitness = read_all<double>(id, "/epoch/best_fitness", H5T_NATIVE_DOUBLE, path);
  s.best_full_val_acc = read_all<double>(id, "/epoch/best_full_val_acc", H5T_NATIVE_DOUBLE, path);
  s.test_acc = read_all<double>(id, "/epoch/test_acc", H5T_NATIVE_DOUBLE, path);
  s.time_s = read_all<double>(id, "/epoch/time_s", H5T_NATIVE_DOUBLE, path);
  if (H5Lexists(id, "/epoch/gt_chosen_test", H5P_DEFAULT) > 0)  // logs written since the nb201 space
    s.gt_chosen_test = read_all<double>(id, "/epoch/gt_chosen_test", H5T_NATIVE_DOUBLE, path);
  if (H5Lexists(id, "/epoch/gt_chosen_below_pct", H5P_DEFAULT) > 0)  // logs written since the percentile
    s.gt_chosen_below_pct = read_all<double>(id, "/epoch/gt_chosen_below_pct", H5T_NATIVE_DOUBLE, path);
  s.fitness = text_attr(id, "fitness");
  // The ranking's tau, and the floor's: the cells' parameter counts against the same test_acc.
  const bool ranked = H5Lexists(id, "/nb201", H5P_DEFAULT) > 0 && H5Lexists(id, "/nb201/ranking", H5P_DEFAULT) > 0 &&
                      H5Lexists(id, "/nb201/ranking/kendall_tau", H5P_DEFAULT) > 0;
  if (ranked) {
    const auto tau = read_all<double>(id, "/nb201/ranking/kendall_tau", H5T_NATIVE_DOUBLE, path);
    if (!tau.empty()) s.rank_tau = tau.back();
    if (H5Lexists(id, "/nb201/ranking/table_params", H5P_DEFAULT) > 0) {
      const auto params = read_all<double>(id, "/nb201/ranking/table_params", H5T_NATIVE_DOUBLE, path);
      const auto test = read_all<double>(id, "/nb201/ranking/table_test", H5T_NATIVE_DOUBLE, path);
      bool known = !params.empty() && params.size() == test.size();
      for (double p : params) known = known && !std::isnan(p);
      if (known) s.params_tau = kendall_tau(params, test);
    }
  }
  s.best_genome = read_all<std::uint8_t>(id, "/best/genome", H5T_NATIVE_UINT8, path);
  const auto best = read_all<float>(id, "/best/fitness", H5T_NATIVE_FLOAT, path);
  s.best_genome_fitness = best.empty() ? 0.0 : double(best[0]);
  return s;
}

}  // namespace gnas::io
