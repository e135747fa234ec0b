// HDF5 C API (Debian's serial build; pkg-config hdf5-serial adds its include and library paths).
#include <hdf5.h>
