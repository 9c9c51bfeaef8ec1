#pragma once
// Test helper: reads gnas logs with the HDF5 C API, independently of the writer in src/io.
#include <hdf5.h>
#include <hdf5_hl.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gnas::testing {

/// A tiny search: C=4, one cell per stage, 2 epochs of 8 steps, 4 population, 6 per generation.
inline const char* const kTiny =
    " --net.channels 4 --net.cells 1 --train.epochs 2 --train.batch 32 --data.synthetic_train 256"
    " --data.synthetic_val 100 --data.synthetic_test 50 --search.n_v 50 --ga.population 4 --ga.generation 6"
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
  /// A numeric root attribute read as uint64 (0 when it is missing).
  std::uint64_t read_attr_u64(const std::string& name) const {
    std::uint64_t v = 0;
    if (H5Aexists(file, name.c_str()) <= 0) return v;
    hid_t a = H5Aopen(file, name.c_str(), H5P_DEFAULT);
    H5Aread(a, H5T_NATIVE_UINT64, &v);
    H5Aclose(a);
    return v;
  }
  bool has_link(const std::string& name) const { return H5Lexists(file, name.c_str(), H5P_DEFAULT) > 0; }
  std::string attr_string(const std::string& name) const { return string_attr_of(file, name); }
  /// A string attribute of dataset `dataset` ("" when it or the attribute is missing).
  std::string dataset_attr_string(const std::string& dataset, const std::string& name) const {
    hid_t ds = H5Dopen2(file, dataset.c_str(), H5P_DEFAULT);
    if (ds < 0) return "";
    std::string v = string_attr_of(ds, name);
    H5Dclose(ds);
    return v;
  }
  /// A scalar string attribute, fixed-length (format_version 1) or variable-length (2).
  static std::string string_attr_of(hid_t object, const std::string& name) {
    if (H5Aexists(object, name.c_str()) <= 0) return "";
    hid_t a = H5Aopen(object, name.c_str(), H5P_DEFAULT);
    hid_t t = H5Aget_type(a);
    std::string v;
    if (H5Tis_variable_str(t) > 0) {
      char* text = nullptr;
      H5Aread(a, t, &text);
      v = text ? text : "";
      H5free_memory(text);
    } else {
      v.assign(H5Tget_size(t), '\0');
      H5Aread(a, t, v.data());
      v = v.substr(0, v.find('\0'));
    }
    H5Tclose(t);
    H5Aclose(a);
    return v;
  }
  /// True when every text attribute of the file is a variable-length UTF-8 string (format 2).
  bool text_attrs_are_utf8() const {
    bool ok = true;
    H5Aiterate2(file, H5_INDEX_NAME, H5_ITER_INC, nullptr,
                [](hid_t loc, const char* name, const H5A_info_t*, void* data) -> herr_t {
                  hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
                  hid_t t = H5Aget_type(a);
                  if (H5Tget_class(t) == H5T_STRING &&
                      (H5Tis_variable_str(t) <= 0 || H5Tget_cset(t) != H5T_CSET_UTF8))
                    *static_cast<bool*>(data) = false;
                  H5Tclose(t);
                  H5Aclose(a);
                  return 0;
                },
                &ok);
    return ok;
  }
  /// The name of the dimension scale attached to axis `axis` of `dataset` ("" when none).
  std::string dimension_name(const std::string& dataset, unsigned axis) const {
    hid_t ds = H5Dopen2(file, dataset.c_str(), H5P_DEFAULT);
    if (ds < 0) return "";
    std::string found;
    H5DSiterate_scales(ds, axis, nullptr,
                       [](hid_t, unsigned, hid_t scale, void* data) -> herr_t {
                         char buf[64] = {};
                         H5DSget_scale_name(scale, buf, sizeof buf);
                         *static_cast<std::string*>(data) = buf;
                         return 1;
                       },
                       &found);
    H5Dclose(ds);
    return found;
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
