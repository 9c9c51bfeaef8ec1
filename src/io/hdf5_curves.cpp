#include "gnas/io/hdf5_curves.h"

#include <hdf5.h>

#include <set>

#include "gnas/core/error.h"

namespace gnas::io {

void write_matrices(const std::string& path, const std::map<std::string, Matrix>& matrices,
                    const std::map<std::string, std::string>& attrs) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  GNAS_CHECK_AS(IoError, file >= 0, "HDF5: cannot create '", path, "'");
  std::string error;
  std::set<std::string> groups;
  for (const auto& [name, m] : matrices) {
    for (auto slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1)) {
      const std::string group = "/" + name.substr(0, slash);
      if (groups.insert(group).second) H5Gclose(H5Gcreate2(file, group.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    }
    const hsize_t dims[2] = {m.rows, m.cols};
    const hid_t space = H5Screate_simple(2, dims, nullptr);
    const hid_t ds = H5Dcreate2(file, ("/" + name).c_str(), H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds < 0 || H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, m.values.data()) < 0)
      error = "cannot write dataset '" + name + "'";
    if (ds >= 0) H5Dclose(ds);
    H5Sclose(space);
  }
  for (const auto& [name, value] : attrs) {
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, value.empty() ? 1 : value.size());
    H5Tset_cset(type, H5T_CSET_UTF8);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(file, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, type, value.empty() ? "" : value.c_str()) < 0) error = "cannot write attribute '" + name + "'";
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    H5Tclose(type);
  }
  const bool closed = H5Fclose(file) >= 0;
  GNAS_CHECK_AS(IoError, error.empty() && closed, "HDF5: ", error.empty() ? "cannot close the file" : error, " in '",
                path, "'");
}

}  // namespace gnas::io
