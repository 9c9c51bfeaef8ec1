#pragma once
// Test helper: reads gnas logs with the HDF5 C API, independently of the writer in src/io.
#include <hdf5.h>

#include <string>
#include <vector>

namespace gnas::testing {

/// A tiny search: C=4, one cell per stage, 2 epochs of 8 steps, 4 population, 6 per generation.
inline const char* const kTiny =
    " --net.channels 4 --net.cells 1 --train.epochs 2 --train.batch 32 --data.synthetic_train 256"
    " --data.synthetic_val 100 --data.synthetic_test 50 --ga.n_v 50 --ga.population 4 --ga.generation 6"
    " --threads 1 --no-progress";

struct H5 {
  hid_t file;
  explicit H5(const std::string& path) { file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT); }
  ~H5() {
    if (file >= 0) H5Fclose(file);
  }
  std::vector<hsize_t> shape(const std::string& name) const {
    hid_t ds = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
    if (ds < 0) return {};
    hid_t sp = H5Dget_space(ds);
    std::vector<hsize_t> dims(H5Sget_simple_extent_ndims(sp));
    H5Sget_simple_extent_dims(sp, dims.data(), nullptr);
    H5Sclose(sp);
    H5Dclose(ds);
    return dims;
  }
  template <class T>
  std::vector<T> read(const std::string& name, hid_t type) const {
    auto dims = shape(name);
    size_t n = 1;
    for (auto d : dims) n *= d;
    std::vector<T> out(n);
    hid_t ds = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
    H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
    H5Dclose(ds);
    return out;
  }
  bool has_attr(const std::string& name) const { return H5Aexists(file, name.c_str()) > 0; }
  std::string attr_string(const std::string& name) const { return string_attr_of(file, name); }
  /// A string attribute of dataset `dataset` ("" when it or the attribute is missing).
  std::string dataset_attr_string(const std::string& dataset, const std::string& name) const {
    hid_t ds = H5Dopen2(file, dataset.c_str(), H5P_DEFAULT);
    if (ds < 0) return "";
    std::string v = string_attr_of(ds, name);
    H5Dclose(ds);
    return v;
  }
  static std::string string_attr_of(hid_t object, const std::string& name) {
    if (H5Aexists(object, name.c_str()) <= 0) return "";
    hid_t a = H5Aopen(object, name.c_str(), H5P_DEFAULT);
    hid_t t = H5Aget_type(a);
    std::string v(H5Tget_size(t), '\0');
    H5Aread(a, t, v.data());
    H5Tclose(t);
    H5Aclose(a);
    return v.substr(0, v.find('\0'));
  }
  int attr_int(const std::string& name) const {
    int v = -1;
    hid_t a = H5Aopen(file, name.c_str(), H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_INT, &v);
    H5Aclose(a);
    return v;
  }
};

}  // namespace gnas::testing
