#include "gnas/io/hdf5_log.h"

#include <hdf5.h>

#include <cmath>
#include <map>

#include "gnas/core/error.h"

namespace gnas::io {
namespace {

/// Runs an HDF5 call and throws IoError naming the action when it fails.
hid_t h5(hid_t id, const std::string& what, const std::string& path) {
  GNAS_CHECK_AS(IoError, id >= 0, "HDF5: cannot ", what, " in '", path, "'");
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

}  // namespace

struct Hdf5Log::Impl {
  hid_t file = -1;
  std::string path;
  std::map<std::string, hid_t> datasets;  // name -> open dataset
  std::map<std::string, int> rank;        // name -> dataset rank

  ~Impl() {
    for (auto& [name, id] : datasets) H5Dclose(id);
    if (file >= 0) {
      H5Fflush(file, H5F_SCOPE_GLOBAL);
      H5Fclose(file);
    }
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
    H5Pset_chunk(dcpl.id, int(chunk.size()), chunk.data());
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
    Handle space(H5Dget_space(ds), H5Sclose);
    std::vector<hsize_t> dims(rank.at(name));
    H5Sget_simple_extent_dims(space.id, dims.data(), nullptr);
    std::vector<hsize_t> grown = dims, start(dims.size(), 0), count = dims;
    grown[0] += 1;
    start[0] = dims[0];
    count[0] = 1;
    h5(H5Dset_extent(ds, grown.data()), "extend dataset '" + name + "'", path);
    Handle fspace(H5Dget_space(ds), H5Sclose);
    H5Sselect_hyperslab(fspace.id, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    Handle mspace(H5Screate_simple(int(count.size()), count.data(), nullptr), H5Sclose);
    h5(H5Dwrite(ds, mem_type, mspace.id, fspace.id, H5P_DEFAULT, data), "write dataset '" + name + "'", path);
  }

  void overwrite(const std::string& name, hid_t mem_type, const void* data) {
    h5(H5Dwrite(datasets.at(name), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "write dataset '" + name + "'",
       path);
  }

  void attr_string(const std::string& name, const std::string& value) {
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.id, value.empty() ? 1 : value.size());
    H5Tset_strpad(type.id, H5T_STR_NULLTERM);
    H5Tset_cset(type.id, H5T_CSET_UTF8);
    Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    Handle a(h5(H5Acreate2(file, name.c_str(), type.id, space.id, H5P_DEFAULT, H5P_DEFAULT),
                "create attribute '" + name + "'", path),
             H5Aclose);
    h5(H5Awrite(a.id, type.id, value.empty() ? "" : value.c_str()), "write attribute '" + name + "'", path);
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
                 bool with_ga)
    : impl_(std::make_unique<Impl>()), path_(path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become IoError with context instead of stack dumps
  Impl& m = *impl_;
  m.path = path;
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_libver_bounds(fapl.id, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);  // required for SWMR
  m.file = h5(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id), "create the file", path);

  m.attr_number("format_version", H5T_NATIVE_INT, kLogFormatVersion);
  m.attr_string("command", attrs.command);
  m.attr_string("config", attrs.config);
  m.attr_string("version", attrs.version);
  m.attr_number("seed", H5T_NATIVE_UINT64, attrs.seed);
  m.attr_number("world_size", H5T_NATIVE_INT, attrs.world_size);
  m.attr_string("dataset", attrs.dataset);
  m.attr_string("started_at", attrs.started_at);

  m.group("/epoch");
  for (const char* name : {"lr", "train_loss", "train_acc", "time_s", "best_fitness", "best_full_val_acc", "test_acc"})
    m.extendible(std::string("/epoch/") + name, H5T_IEEE_F64LE, {});
  m.extendible("/epoch/n_new", H5T_STD_I32LE, {});
  const hsize_t len = static_cast<hsize_t>(genome_length);
  if (with_ga) {
    m.group("/ga");
    m.group("/ga/generation");
    m.group("/ga/population");
    m.extendible("/ga/generation/genome", H5T_STD_U8LE, {hsize_t(n_g), len});
    m.extendible("/ga/generation/fitness", H5T_IEEE_F32LE, {hsize_t(n_g)});
    m.extendible("/ga/generation/epoch", H5T_STD_I32LE, {});
    m.extendible("/ga/population/genome", H5T_STD_U8LE, {hsize_t(n_p), len});
    m.extendible("/ga/population/fitness", H5T_IEEE_F32LE, {hsize_t(n_p)});
  }
  m.group("/best");
  m.fixed("/best/genome", H5T_STD_U8LE, {len});
  m.fixed("/best/fitness", H5T_IEEE_F32LE, {});
  const std::vector<std::uint8_t> zeros(len, 0);
  const float nan = std::nanf("");
  m.overwrite("/best/genome", H5T_NATIVE_UINT8, zeros.data());
  m.overwrite("/best/fitness", H5T_NATIVE_FLOAT, &nan);
  h5(H5Fstart_swmr_write(m.file), "start SWMR writing", path);
}

Hdf5Log::Hdf5Log(const std::string& path, long epoch_rows, long generation_rows)
    : impl_(std::make_unique<Impl>()), path_(path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  Impl& m = *impl_;
  m.path = path;
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_libver_bounds(fapl.id, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  m.file = H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl.id);
  if (m.file < 0) {
    // A writer that was killed leaves the SWMR "file in use" flag set; clear it as h5clear -s does.
    hbool_t clear = 1;
    if (H5Pexist(fapl.id, "clear_status_flags") > 0 && H5Pset(fapl.id, "clear_status_flags", &clear) >= 0)
      m.file = H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl.id);
  }
  h5(m.file, "open the log for resuming (missing, corrupt, or still open elsewhere? try 'h5clear -s')", path);
  auto open = [&](const std::string& name, long rows) {
    const hid_t ds = h5(H5Dopen2(m.file, name.c_str(), H5P_DEFAULT), "open dataset '" + name + "'", path);
    m.datasets[name] = ds;
    Handle space(H5Dget_space(ds), H5Sclose);
    m.rank[name] = H5Sget_simple_extent_ndims(space.id);
    if (rows < 0) return;
    std::vector<hsize_t> dims(m.rank[name]);
    H5Sget_simple_extent_dims(space.id, dims.data(), nullptr);
    GNAS_CHECK_AS(IoError, dims[0] >= hsize_t(rows), "HDF5: '", name, "' in '", path, "' has ", dims[0],
                  " rows but the checkpoint needs ", rows, "; the log does not belong to this checkpoint");
    dims[0] = hsize_t(rows);
    h5(H5Dset_extent(ds, dims.data()), "truncate dataset '" + name + "'", path);
  };
  for (const char* name : {"lr", "train_loss", "train_acc", "time_s", "best_fitness", "best_full_val_acc", "test_acc",
                           "n_new"})
    open(std::string("/epoch/") + name, epoch_rows);
  if (H5Lexists(m.file, "/ga", H5P_DEFAULT) > 0)
    for (const char* name : {"/ga/generation/genome", "/ga/generation/fitness", "/ga/generation/epoch",
                             "/ga/population/genome", "/ga/population/fitness"})
      open(name, generation_rows);
  open("/best/genome", -1);
  open("/best/fitness", -1);
  h5(H5Fstart_swmr_write(m.file), "start SWMR writing", path);
}

Hdf5Log::~Hdf5Log() = default;

void Hdf5Log::append_epoch(const EpochRecord& r) {
  Impl& m = *impl_;
  const std::pair<const char*, double> values[] = {
      {"lr", r.lr}, {"train_loss", r.train_loss}, {"train_acc", r.train_acc}, {"time_s", r.time_s},
      {"best_fitness", r.best_fitness}, {"best_full_val_acc", r.best_full_val_acc}, {"test_acc", r.test_acc}};
  for (const auto& [name, v] : values) m.append(std::string("/epoch/") + name, H5T_NATIVE_DOUBLE, &v);
  m.append("/epoch/n_new", H5T_NATIVE_INT, &r.n_new);
}

void Hdf5Log::append_generation(const std::vector<std::uint8_t>& generation, const std::vector<float>& generation_fitness,
                                int epoch, const std::vector<std::uint8_t>& population,
                                const std::vector<float>& population_fitness) {
  Impl& m = *impl_;
  GNAS_CHECK(m.datasets.count("/ga/generation/genome"), "Hdf5Log: this log has no /ga group");
  m.append("/ga/generation/genome", H5T_NATIVE_UINT8, generation.data());
  m.append("/ga/generation/fitness", H5T_NATIVE_FLOAT, generation_fitness.data());
  m.append("/ga/generation/epoch", H5T_NATIVE_INT, &epoch);
  m.append("/ga/population/genome", H5T_NATIVE_UINT8, population.data());
  m.append("/ga/population/fitness", H5T_NATIVE_FLOAT, population_fitness.data());
}

void Hdf5Log::set_best(const std::vector<std::uint8_t>& genome, float fitness) {
  impl_->overwrite("/best/genome", H5T_NATIVE_UINT8, genome.data());
  impl_->overwrite("/best/fitness", H5T_NATIVE_FLOAT, &fitness);
}

void Hdf5Log::flush() { h5(H5Fflush(impl_->file, H5F_SCOPE_GLOBAL), "flush", path_); }

}  // namespace gnas::io
