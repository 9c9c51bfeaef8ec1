#include "gnas/io/hdf5_curves.h"

#include <hdf5.h>

#include <cstdio>
#include <filesystem>
#include <set>

#include "gnas/core/error.h"
#include "gnas/io/files.h"
#include "gnas/io/hdf5_log.h"

namespace gnas::io {

void write_matrices(const std::string& path, const std::map<std::string, Matrix>& matrices,
                    const std::map<std::string, std::string>& attrs) {
  // Written beside the target and renamed over it once whole: a failed write (a full disk) leaves
  // no partial file where a result is expected, and an earlier result stays as it was.
  const std::string target = output_file_target(path), tmp = target + ".tmp";
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const hid_t file = H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  GNAS_CHECK_AS(IoError, file >= 0, "HDF5: cannot create '", tmp, "'", hdf5_failure());
  std::string error;
  const auto fail = [&](const std::string& what) {
    if (error.empty()) error = what + hdf5_failure();
  };
  std::set<std::string> groups;
  for (const auto& [name, m] : matrices) {
    for (auto slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1)) {
      const std::string group = "/" + name.substr(0, slash);
      if (groups.insert(group).second) {
        const hid_t g = H5Gcreate2(file, group.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g < 0) fail("cannot create group '" + group + "'");
        else H5Gclose(g);
      }
    }
    GNAS_CHECK(m.values.size() == std::size_t(m.rows) * std::size_t(m.cols), "matrix '", name, "': ", m.values.size(),
               " values for ", m.rows, " x ", m.cols);
    const hsize_t dims[2] = {m.rows, m.cols};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t ds = H5Dcreate2(file, ("/" + name).c_str(), H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds < 0 || H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, m.values.data()) < 0)
      fail("cannot write dataset '" + name + "'");
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(space);
  }
  for (const auto& [name, value] : attrs) {
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, value.empty() ? 1 : value.size());
    H5Tset_cset(type, H5T_CSET_UTF8);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(file, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, type, value.empty() ? "" : value.c_str()) < 0) fail("cannot write attribute '" + name + "'");
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
  }
  if (error.empty() && H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) fail("cannot flush the file");
  if (H5Fclose(file) < 0) fail("cannot close the file");
  if (error.empty()) {
    try {
      fsync_path(tmp);
    } catch (const IoError& e) {
      error = e.what();
    }
  }
  if (!error.empty()) {
    std::remove(tmp.c_str());
    throw IoError(detail::concat("HDF5: ", error, " in '", tmp, "'; removed it, and '", path,
                                 "' is as it was"));
  }
  rename_file(tmp, target);
  const auto parent = std::filesystem::path(target).parent_path();
  fsync_path(parent.empty() ? "." : parent.string());
}

}  // namespace gnas::io
