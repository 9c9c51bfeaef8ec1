#include "gnas/io/hdf5_log.h"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <type_traits>

#include "gnas/core/error.h"
#include "gnas/io/config_keys.h"
#include "gnas/io/files.h"
#include "gnas/io/log_schema.h"
#include "gnas/core/log.h"

namespace gnas::io {

std::string hdf5_failure() {
  std::vector<std::string> messages;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD,
           [](unsigned, const H5E_error2_t* e, void* data) -> herr_t {
             if (e->desc && *e->desc) static_cast<std::vector<std::string>*>(data)->push_back(e->desc);
             return 0;
           },
           &messages);
  if (messages.empty()) return "";
  bool full = false;
  for (const auto& m : messages)
    full = full || m.find("No space left on device") != std::string::npos || m.find("errno = 28,") != std::string::npos;
  // A system error ("file write failed: time = ..., errno = 28, error message = 'No space left on
  // device', buf = ...") is shortened to what it says: "file write failed: No space left on device".
  std::string why = messages.back();
  const std::string key = "error message = '";
  const std::size_t at = why.find(key), end = at == std::string::npos ? at : why.find('\'', at + key.size());
  if (end != std::string::npos) why = why.substr(0, why.find(':')) + ": " + why.substr(at + key.size(), end - at - key.size());
  return ": " + why + (full ? " (the disk is full)" : "");
}

namespace {

/// Runs an HDF5 call and throws IoError naming the action, and HDF5's reason, when it fails.
hid_t h5(hid_t id, const std::string& what, const std::string& path) {
  if (id < 0) throw IoError(detail::concat("HDF5: cannot ", what, " in '", path, "'", hdf5_failure()));
  return id;
}

struct Handle {  // closes an hid_t with the right function
  hid_t id = -1;
  herr_t (*close)(hid_t) = nullptr;
  Handle(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  ~Handle() {
    if (id >= 0 && close) close(id);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
};

/// The file type of a schema type (little-endian, as DESIGN §7 fixes).
hid_t file_type(LogType t) {
  switch (t) {
    case LogType::kF64: return H5T_IEEE_F64LE;
    case LogType::kF32: return H5T_IEEE_F32LE;
    case LogType::kI32: return H5T_STD_I32LE;
    case LogType::kU8: return H5T_STD_U8LE;
  }
  return H5T_IEEE_F64LE;
}

void write_string_attr(hid_t object, const std::string& what, const std::string& key, const std::string& value,
                       const std::string& path) {
  if (H5Aexists(object, key.c_str()) > 0) H5Adelete(object, key.c_str());
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.id, H5T_VARIABLE);
  H5Tset_cset(type.id, H5T_CSET_UTF8);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle a(h5(H5Acreate2(object, key.c_str(), type.id, space.id, H5P_DEFAULT, H5P_DEFAULT),
              "create attribute '" + what + "'", path),
           H5Aclose);
  const char* text = value.c_str();
  h5(H5Awrite(a.id, type.id, &text), "write attribute '" + what + "'", path);
}

void write_int_attr(hid_t object, const std::string& key, std::int64_t value, const std::string& path) {
  if (H5Aexists(object, key.c_str()) > 0) H5Adelete(object, key.c_str());
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle a(h5(H5Acreate2(object, key.c_str(), H5T_STD_I64LE, space.id, H5P_DEFAULT, H5P_DEFAULT),
              "create attribute '" + key + "'", path),
           H5Aclose);
  h5(H5Awrite(a.id, H5T_NATIVE_INT64, &value), "write attribute '" + key + "'", path);
}

/// The status attributes (format_version 2); nothing when the status is unset.
void write_status_attrs(hid_t file, const RunStatusAttributes& st, const std::string& path) {
  if (st.status.empty()) return;
  write_string_attr(file, "status", "status", st.status, path);
  write_string_attr(file, "status_reason", "status_reason", st.reason, path);
  write_int_attr(file, "epochs_done", st.epochs_done, path);
  write_int_attr(file, "epochs_planned", st.epochs_planned, path);
  write_string_attr(file, "segments", "segments", st.segments, path);
  write_string_attr(file, "updated_at", "updated_at", st.updated_at, path);
  for (const auto& [key, value] : {std::pair<const char*, const std::string*>{"host", &st.host},
                                   {"device", &st.device}, {"git_commit", &st.git_commit},
                                   {"slurm_job_id", &st.slurm_job_id}})
    if (!value->empty()) write_string_attr(file, key, key, *value, path);
}

/// The group part of a dataset path ("/ga/generation/genome" -> "/ga/generation").
std::string parent_of(const std::string& path) { return path.substr(0, path.rfind('/')); }


}  // namespace

std::string sectioned_ini(const std::string& config) {
  std::istringstream in(config);
  std::string line, head, rest;
  bool in_section = false, run_opened = false;
  while (std::getline(in, line)) {
    const auto b = line.find_first_not_of(" \t");
    const bool section = b != std::string::npos && line[b] == '[';
    const bool key = b != std::string::npos && line[b] != '#' && line[b] != ';' && !section;
    in_section = in_section || section;
    if (!in_section && key && !run_opened) {
      head += "[run]\n";
      run_opened = true;
    }
    (in_section ? rest : head) += line + "\n";
  }
  const bool separated = head.size() >= 2 && head.compare(head.size() - 2, 2, "\n\n") == 0;
  return head + (run_opened && !rest.empty() && !separated ? "\n" : "") + rest;
}

struct Hdf5Log::Impl {
  hid_t file = -1;
  std::string path;
  std::map<std::string, hid_t> datasets;  // name -> open dataset
  std::map<std::string, int> rank;        // name -> dataset rank

  std::vector<std::pair<std::string, hsize_t>> pending;  // rows appended by the record being written

  ~Impl() {
    bool ok = true;
    for (auto& [name, id] : datasets) ok = H5Dclose(id) >= 0 && ok;
    if (file >= 0) {
      ok = H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0 && ok;
      ok = H5Fclose(file) >= 0 && ok;
    }
    // A destructor cannot throw: the failure (a full disk, an I/O error) is said, and the rows
    // already flushed stay readable.
    if (!ok) GNAS_LOG(WARN) << "HDF5: cannot close '" << path << "' cleanly; its last rows may be missing";
  }

  /// One record (an epoch, a generation, a ranking) spans several datasets: either all of them get
  /// its row, or none does. `rollback` shrinks each dataset the record grew back to its old length.
  void begin_record() { pending.clear(); }
  void commit_record() { pending.clear(); }
  void rollback_record() noexcept {
    for (auto it = pending.rbegin(); it != pending.rend(); ++it) {
      const hid_t ds = datasets.at(it->first);
      std::vector<hsize_t> dims(rank.at(it->first));
      Handle space(H5Dget_space(ds), H5Sclose);
      if (space.id < 0 || H5Sget_simple_extent_dims(space.id, dims.data(), nullptr) < 0) continue;
      dims[0] = it->second;
      H5Dset_extent(ds, dims.data());  // best effort: the write that failed is being reported
    }
    pending.clear();
  }

  void group(const std::string& name) {
    Handle g(h5(H5Gcreate2(file, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "create group '" + name + "'", path),
             H5Gclose);
  }

  /// Extendible dataset with first axis 0 .. unlimited and fixed trailing dims.
  void extendible(const std::string& name, hid_t type, std::vector<hsize_t> tail) {
    std::vector<hsize_t> dims{0}, maxdims{H5S_UNLIMITED}, chunk{64};
    for (auto t : tail) {
      dims.push_back(t);
      maxdims.push_back(t);
      chunk.push_back(t);
    }
    if (!tail.empty()) chunk[0] = 4;
    Handle space(h5(H5Screate_simple(int(dims.size()), dims.data(), maxdims.data()), "create dataspace", path), H5Sclose);
    Handle dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    h5(H5Pset_chunk(dcpl.id, int(chunk.size()), chunk.data()), "set the chunks of '" + name + "'", path);
    datasets[name] = h5(H5Dcreate2(file, name.c_str(), type, space.id, H5P_DEFAULT, dcpl.id, H5P_DEFAULT),
                        "create dataset '" + name + "'", path);
    rank[name] = int(dims.size());
  }

  void fixed(const std::string& name, hid_t type, std::vector<hsize_t> dims) {
    Handle space(h5(dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(int(dims.size()), dims.data(), nullptr),
                    "create dataspace", path),
                 H5Sclose);
    datasets[name] = h5(H5Dcreate2(file, name.c_str(), type, space.id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                        "create dataset '" + name + "'", path);
    rank[name] = int(dims.size());
  }

  /// Appends one row (all trailing elements) to an extendible dataset.
  void append(const std::string& name, hid_t mem_type, const void* data) {
    const hid_t ds = datasets.at(name);
    Handle space(h5(H5Dget_space(ds), "get the dataspace of '" + name + "'", path), H5Sclose);
    std::vector<hsize_t> dims(rank.at(name));
    h5(H5Sget_simple_extent_dims(space.id, dims.data(), nullptr), "read the size of '" + name + "'", path);
    std::vector<hsize_t> grown = dims, start(dims.size(), 0), count = dims;
    grown[0] += 1;
    start[0] = dims[0];
    count[0] = 1;
    pending.emplace_back(name, dims[0]);
    h5(H5Dset_extent(ds, grown.data()), "extend dataset '" + name + "'", path);
    Handle fspace(h5(H5Dget_space(ds), "get the dataspace of '" + name + "'", path), H5Sclose);
    h5(H5Sselect_hyperslab(fspace.id, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
       "select the new row of '" + name + "'", path);
    Handle mspace(h5(H5Screate_simple(int(count.size()), count.data(), nullptr), "create dataspace", path), H5Sclose);
    h5(H5Dwrite(ds, mem_type, mspace.id, fspace.id, H5P_DEFAULT, data), "write dataset '" + name + "'", path);
  }

  void overwrite(const std::string& name, hid_t mem_type, const void* data) {
    h5(H5Dwrite(datasets.at(name), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "write dataset '" + name + "'",
       path);
  }

  /// A UTF-8 variable-length string attribute `key` on `object` (the file or a dataset), replacing
  /// one of that name; `where` names it in errors. h5py reads it back as str.
  void string_attr(hid_t object, const std::string& where, const std::string& key, const std::string& value) {
    write_string_attr(object, where + key, key, value, path);
  }
  void attr_string(const std::string& name, const std::string& value) { string_attr(file, "", name, value); }
  void dataset_attr(const std::string& name, const std::string& key, const std::string& value) {
    string_attr(datasets.at(name), name + "/", key, value);
  }

  /// A 1-D attribute of UTF-8 variable-length strings (h5py: an array of str).
  void string_array_attr(const std::string& name, const std::vector<std::string>& values) {
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.id, H5T_VARIABLE);
    H5Tset_cset(type.id, H5T_CSET_UTF8);
    const hsize_t n = values.size();
    Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
    Handle a(h5(H5Acreate2(file, name.c_str(), type.id, space.id, H5P_DEFAULT, H5P_DEFAULT),
                "create attribute '" + name + "'", path),
             H5Aclose);
    std::vector<const char*> texts;
    for (const auto& v : values) texts.push_back(v.c_str());
    h5(H5Awrite(a.id, type.id, texts.data()), "write attribute '" + name + "'", path);
  }

  template <class T>
  void attr_number(const std::string& name, hid_t type, T value) {
    Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    Handle a(h5(H5Acreate2(file, name.c_str(), type, space.id, H5P_DEFAULT, H5P_DEFAULT),
                "create attribute '" + name + "'", path),
             H5Aclose);
    h5(H5Awrite(a.id, type, &value), "write attribute '" + name + "'", path);
  }
};

Hdf5Log::Hdf5Log(const std::string& path, const LogAttributes& attrs, int genome_length, int n_g, int n_p,
                 bool with_ga, int n_rank)
    : impl_(std::make_unique<Impl>()), path_(path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become IoError with context instead of stack dumps
  content_.attrs = attrs;
  content_.genome_length = genome_length;
  content_.n_g = n_g;
  content_.n_p = n_p;
  content_.with_ga = with_ga;
  content_.n_rank = n_rank;
  Impl& m = *impl_;
  m.path = path;
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  h5(H5Pset_libver_bounds(fapl.id, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST), "ask for the latest format (SWMR)",
     path);
  m.file = h5(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id), "create the file", path);

  m.attr_number("format_version", H5T_NATIVE_INT, kLogFormatVersion);
  m.attr_string("command", attrs.command);
  m.attr_string("config", sectioned_ini(attrs.config));
  m.attr_string("version", attrs.version);
  m.attr_number("seed", H5T_NATIVE_UINT64, attrs.seed);
  m.attr_number("world_size", H5T_NATIVE_INT, attrs.world_size);
  m.attr_string("dataset", attrs.dataset);
  m.attr_string("started_at", attrs.started_at);
  if (!attrs.resume_history.empty()) m.attr_string("resume_history", attrs.resume_history);
  if (!attrs.strategy.empty()) m.attr_string("strategy", attrs.strategy);
  if (!attrs.fitness.empty()) m.attr_string("fitness", attrs.fitness);
  if (!attrs.net_compat.empty()) m.attr_string("net_compat", attrs.net_compat);
  if (!attrs.run_id.empty()) m.attr_string("run_id", attrs.run_id);
  m.attr_string("config_keys", config_keys_json());  // what the config's keys mean, for gnas-analysis
  if (!attrs.source_run.empty()) {
    m.attr_string("source_run", attrs.source_run);
    m.attr_string("source_run_id", attrs.source_run_id);
    m.attr_number("source_epoch", H5T_NATIVE_INT, attrs.source_epoch);
  }
  if (!attrs.op_names.empty()) m.string_array_attr("op_names", attrs.op_names);
  if (!attrs.genome_layout.empty()) m.attr_string("genome_layout", attrs.genome_layout);
  if (!attrs.genome_layout_json.empty()) m.attr_string("genome_layout_json", attrs.genome_layout_json);
  if (!attrs.space.empty()) m.attr_string("space", attrs.space);
  write_status_attrs(m.file, attrs.status, path);

  // Every dataset of the schema (the /ga group only with_ga), with its units and description.
  for (const char* g : {"/epoch", "/step", "/best"}) m.group(g);
  if (with_ga) {
    m.group("/ga");
    m.group("/ga/generation");
    m.group("/ga/population");
  }
  if (n_rank > 0) {
    m.group("/nb201");
    m.group("/nb201/ranking");
  }
  std::vector<const LogDataset*> made;
  for (const auto& d : log_schema()) {
    if ((log_in_ga(d) && !with_ga) || (log_in_nb201(d) && n_rank <= 0)) continue;
    std::vector<hsize_t> inner;
    for (auto n : log_inner_dims(d.inner, genome_length, n_g, n_p, n_rank)) inner.push_back(hsize_t(n));
    if (d.rows == LogRows::kFixed)
      m.fixed(d.path, file_type(d.type), inner);
    else
      m.extendible(d.path, file_type(d.type), inner);
    m.dataset_attr(d.path, "units", d.units);
    m.dataset_attr(d.path, "description", d.description);
    made.push_back(&d);
  }
  // Dimension scales: fixed ones hold their positions; each dataset's axes are attached to the
  // scales of its group named by its dims.
  for (const LogDataset* d : made) {
    if (!log_is_scale(*d)) continue;
    h5(H5DSset_scale(m.datasets.at(d->path), d->dims), std::string("make '") + d->path + "' a dimension scale", path);
    if (d->rows == LogRows::kFixed) {
      std::vector<int> positions(log_inner_dims(d->inner, genome_length, n_g, n_p, n_rank).at(0));
      for (std::size_t i = 0; i < positions.size(); ++i) positions[i] = int(i);
      m.overwrite(d->path, H5T_NATIVE_INT, positions.data());
    }
  }
  for (const LogDataset* d : made) {
    if (log_is_scale(*d)) continue;
    std::istringstream names(d->dims);
    std::string dim;
    for (unsigned axis = 0; names >> dim; ++axis) {
      const std::string scale = parent_of(d->path) + "/" + dim;
      h5(H5DSattach_scale(m.datasets.at(d->path), m.datasets.at(scale), axis),
         "attach dimension scale '" + scale + "' to '" + d->path + "'", path);
      h5(H5DSset_label(m.datasets.at(d->path), axis, dim.c_str()), "label axis " + dim + " of '" + d->path + "'",
         path);  // h5py: dataset.dims[i].label
    }
  }
  const std::vector<std::uint8_t> zeros(std::size_t(genome_length), 0);
  const float nan = std::nanf("");
  m.overwrite("/best/genome", H5T_NATIVE_UINT8, zeros.data());
  m.overwrite("/best/fitness", H5T_NATIVE_FLOAT, &nan);
  h5(H5Fstart_swmr_write(m.file), "start SWMR writing", path);
}

namespace {
/// True when `path` opens as an HDF5 file with a format_version attribute (also a file that a
/// killed writer left flagged as in use: it is opened as an SWMR reader).
bool readable_log(const std::string& path) {
  // Few metadata read attempts: SWMR's default (100, with growing sleeps) takes minutes on a damaged file.
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_metadata_read_attempts(fapl.id, 8);
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl.id);
  if (f < 0) return false;
  const bool ok = H5Aexists(f, "format_version") > 0;
  H5Fclose(f);
  return ok;
}
}  // namespace

std::unique_ptr<Hdf5Log> Hdf5Log::restore(const std::string& path, const LogContent& c) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  if (!path_exists(path)) {
    GNAS_LOG(WARN) << path << " is missing; rebuilding it from the checkpoint (" << c.epochs.size() << " epochs, "
                   << c.generation_epoch.size() << " generations)";
  } else if (!readable_log(path)) {
    const std::string aside = path + ".damaged-" + utc_timestamp();
    GNAS_CHECK_AS(IoError, std::rename(path.c_str(), aside.c_str()) == 0, "cannot move the damaged log '", path,
                  "' aside: ", std::strerror(errno));
    GNAS_LOG(WARN) << path << " cannot be read; kept it as " << aside << " and rebuilt the log from the checkpoint ("
                   << c.epochs.size() << " epochs, " << c.generation_epoch.size() << " generations)";
  }
  // Written beside the log and renamed over it: a reader never sees a half-written file.
  const std::string tmp = path + ".restore";
  auto log = std::make_unique<Hdf5Log>(tmp, c.attrs, c.genome_length, c.n_g, c.n_p, c.with_ga, c.n_rank);
  for (const auto& r : c.epochs) log->append_epoch(r);
  for (const auto& r : c.steps) log->append_step(r);
  const std::size_t gl = std::size_t(c.genome_length);
  for (std::size_t g = 0; g < c.generation_epoch.size(); ++g) {
    auto slice = [](const auto& v, std::size_t row, std::size_t n) {
      using T = typename std::decay_t<decltype(v)>::value_type;
      return std::vector<T>(v.begin() + long(row * n), v.begin() + long((row + 1) * n));
    };
    log->append_generation(slice(c.generation_genomes, g, gl * c.n_g), slice(c.generation_fitness, g, c.n_g),
                           c.generation_epoch[g], c.generation_n_new[g], slice(c.population_genomes, g, gl * c.n_p),
                           slice(c.population_fitness, g, c.n_p),
                           c.population_rescored.size() == c.population_fitness.size()
                               ? slice(c.population_rescored, g, c.n_p) : std::vector<float>{});
  }
  if (c.n_rank > 0 && !c.rank_index.empty()) {
    log->set_ranking_set(c.rank_genomes, c.rank_index, c.rank_table_test, c.rank_table_valid, c.rank_table_params);
    for (std::size_t r = 0; r < c.rank_epoch.size(); ++r)
      log->append_ranking(c.rank_epoch[r],
                          std::vector<float>(c.rank_score.begin() + long(r * c.n_rank),
                                             c.rank_score.begin() + long((r + 1) * c.n_rank)),
                          c.rank_tau[r], c.rank_rho[r]);
  }
  if (!c.best_genome.empty()) log->set_best(c.best_genome, c.best_fitness);
  log->flush();
  fsync_path(tmp);  // on disk before it replaces the old log
  GNAS_CHECK_AS(IoError, std::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename '", tmp, "' to '", path,
                "': ", std::strerror(errno));
  log->path_ = path;
  log->impl_->path = path;
  return log;
}

Hdf5Log::~Hdf5Log() = default;

namespace {
/// Rolls back a record's partly appended rows unless committed (Impl::rollback_record).
template <typename M>
struct RecordGuard {
  M& m;
  bool committed = false;
  explicit RecordGuard(M& impl) : m(impl) { m.begin_record(); }
  void commit() {
    m.commit_record();
    committed = true;
  }
  ~RecordGuard() {
    if (!committed) m.rollback_record();
  }
};
}  // namespace

void Hdf5Log::append_epoch(const EpochRecord& r) {
  Impl& m = *impl_;
  RecordGuard<Impl> record(m);
  const int number = int(content_.epochs.size()) + 1;
  for (const auto& d : log_schema()) {
    if (d.f64) m.append(d.path, H5T_NATIVE_DOUBLE, &(r.*d.f64));
    if (d.i32) m.append(d.path, H5T_NATIVE_INT, &(r.*d.i32));
    if (d.rows == LogRows::kEpoch && log_is_scale(d)) m.append(d.path, H5T_NATIVE_INT, &number);
  }
  record.commit();
  content_.epochs.push_back(r);
}

void Hdf5Log::append_step(const StepRecord& r) {
  Impl& m = *impl_;
  RecordGuard<Impl> record(m);
  for (const auto& d : log_schema()) {
    if (d.step_f64) m.append(d.path, H5T_NATIVE_DOUBLE, &(r.*d.step_f64));
    if (d.step_i32) m.append(d.path, H5T_NATIVE_INT, &(r.*d.step_i32));
  }
  record.commit();
  content_.steps.push_back(r);
}

void Hdf5Log::append_generation(const std::vector<std::uint8_t>& generation, const std::vector<float>& generation_fitness,
                                int epoch, int n_new, const std::vector<std::uint8_t>& population,
                                const std::vector<float>& population_fitness, const std::vector<float>& rescored) {
  Impl& m = *impl_;
  GNAS_CHECK(m.datasets.count("/ga/generation/genome"), "Hdf5Log: this log has no /ga group");
  // The rows are written from .data() with the log's shape: a vector of another size would be read
  // past its end (or cut short), so it is refused before a byte is written.
  const auto n_g = std::size_t(content_.n_g), n_p = std::size_t(content_.n_p), length = std::size_t(content_.genome_length);
  GNAS_CHECK(generation.size() == n_g * length && generation_fitness.size() == n_g &&
                 population.size() == n_p * length && population_fitness.size() == n_p,
             "Hdf5Log: a generation row of ", generation.size(), " genes / ", generation_fitness.size(),
             " fitness values and a population of ", population.size(), " / ", population_fitness.size(),
             ", but this log's rows are ", n_g, " x ", length, " and ", n_p, " x ", length);
  RecordGuard<Impl> record(m);
  m.append("/ga/generation/genome", H5T_NATIVE_UINT8, generation.data());
  m.append("/ga/generation/fitness", H5T_NATIVE_FLOAT, generation_fitness.data());
  m.append("/ga/generation/epoch", H5T_NATIVE_INT, &epoch);
  m.append("/ga/generation/n_new", H5T_NATIVE_INT, &n_new);
  m.append("/ga/population/genome", H5T_NATIVE_UINT8, population.data());
  m.append("/ga/population/fitness", H5T_NATIVE_FLOAT, population_fitness.data());
  std::vector<float> re = rescored;
  if (re.empty()) re.assign(population_fitness.size(), std::nanf(""));
  GNAS_CHECK(re.size() == population_fitness.size(), "Hdf5Log: ", re.size(), " re-scored members for a population of ",
             population_fitness.size());
  m.append("/ga/population/rescored_fitness", H5T_NATIVE_FLOAT, re.data());
  const int number = int(content_.generation_epoch.size()) + 1;
  m.append("/ga/generation/generation", H5T_NATIVE_INT, &number);
  m.append("/ga/population/generation", H5T_NATIVE_INT, &number);
  record.commit();
  auto& c = content_;
  c.generation_genomes.insert(c.generation_genomes.end(), generation.begin(), generation.end());
  c.generation_fitness.insert(c.generation_fitness.end(), generation_fitness.begin(), generation_fitness.end());
  c.generation_epoch.push_back(epoch);
  c.generation_n_new.push_back(n_new);
  c.population_genomes.insert(c.population_genomes.end(), population.begin(), population.end());
  c.population_fitness.insert(c.population_fitness.end(), population_fitness.begin(), population_fitness.end());
  c.population_rescored.insert(c.population_rescored.end(), re.begin(), re.end());
}

void Hdf5Log::set_ranking_set(const std::vector<std::uint8_t>& genomes, const std::vector<std::int32_t>& index,
                              const std::vector<float>& table_test, const std::vector<float>& table_valid,
                              const std::vector<float>& table_params) {
  auto& c = content_;
  const auto n = std::size_t(c.n_rank);
  GNAS_CHECK(n > 0 && index.size() == n && table_test.size() == n && table_valid.size() == n &&
                 (table_params.empty() || table_params.size() == n) &&
                 genomes.size() == n * std::size_t(c.genome_length),
             "Hdf5Log: a ranking set that does not fit the log's (", n, " cells)");
  impl_->overwrite("/nb201/ranking/genome", H5T_NATIVE_UINT8, genomes.data());
  impl_->overwrite("/nb201/ranking/index", H5T_NATIVE_INT32, index.data());
  impl_->overwrite("/nb201/ranking/table_test", H5T_NATIVE_FLOAT, table_test.data());
  impl_->overwrite("/nb201/ranking/table_valid", H5T_NATIVE_FLOAT, table_valid.data());
  const std::vector<float> params = table_params.empty() ? std::vector<float>(n, NAN) : table_params;
  impl_->overwrite("/nb201/ranking/table_params", H5T_NATIVE_FLOAT, params.data());
  c.rank_genomes = genomes, c.rank_index = index, c.rank_table_test = table_test, c.rank_table_valid = table_valid;
  c.rank_table_params = table_params;
}

void Hdf5Log::append_ranking(int epoch, const std::vector<float>& scores, double tau, double rho) {
  auto& c = content_;
  GNAS_CHECK(c.n_rank > 0 && scores.size() == std::size_t(c.n_rank), "Hdf5Log: ", scores.size(),
             " ranking scores for a ranking set of ", c.n_rank);
  Impl& m = *impl_;
  RecordGuard<Impl> record(m);
  const int number = int(c.rank_epoch.size()) + 1;
  m.append("/nb201/ranking/epoch", H5T_NATIVE_INT, &epoch);
  m.append("/nb201/ranking/score", H5T_NATIVE_FLOAT, scores.data());
  m.append("/nb201/ranking/kendall_tau", H5T_NATIVE_DOUBLE, &tau);
  m.append("/nb201/ranking/spearman_rho", H5T_NATIVE_DOUBLE, &rho);
  m.append("/nb201/ranking/ranking", H5T_NATIVE_INT, &number);
  record.commit();
  c.rank_epoch.push_back(epoch);
  c.rank_score.insert(c.rank_score.end(), scores.begin(), scores.end());
  c.rank_tau.push_back(tau);
  c.rank_rho.push_back(rho);
}

void Hdf5Log::set_best(const std::vector<std::uint8_t>& genome, float fitness) {
  GNAS_CHECK(genome.size() == std::size_t(content_.genome_length), "Hdf5Log: a best genome of ", genome.size(),
             " genes, but this log's genomes have ", content_.genome_length);
  impl_->overwrite("/best/genome", H5T_NATIVE_UINT8, genome.data());
  impl_->overwrite("/best/fitness", H5T_NATIVE_FLOAT, &fitness);
  content_.best_genome = genome;
  content_.best_fitness = fitness;
}

void Hdf5Log::write_status(const std::string& path, const RunStatusAttributes& status) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Handle file(h5(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), "open the file to record the run's status", path),
              H5Fclose);
  write_status_attrs(file.id, status, path);
  h5(H5Fflush(file.id, H5F_SCOPE_GLOBAL), "flush", path);
}

void skip_hdf5_cleanup_at_exit() { H5dont_atexit(); }

void Hdf5Log::flush() { h5(H5Fflush(impl_->file, H5F_SCOPE_GLOBAL), "flush", path_); }

}  // namespace gnas::io
