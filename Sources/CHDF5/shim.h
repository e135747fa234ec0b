// HDF5 C API (Debian's serial build; pkg-config hdf5-serial adds its include and library paths).
// Most HDF5 constants are macros that expand to library globals behind an init call (H5OPEN), which
// Swift cannot import; the inline functions below expose them by value.
#include <hdf5.h>
#include <string.h>

static inline hid_t pgpt_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t pgpt_h5s_all(void) { return H5S_ALL; }
static inline unsigned pgpt_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned pgpt_h5f_acc_excl(void) { return H5F_ACC_EXCL; }
static inline hid_t pgpt_h5p_dataset_create(void) { return H5P_DATASET_CREATE; }

static inline hid_t pgpt_h5t_ieee_f16le(void) {
    // IEEE binary16 as h5py declares float16: a 16-bit copy of binary32 with 5 exponent / 10 mantissa bits.
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(t, 15, 10, 5, 0, 10);
    H5Tset_size(t, 2);
    H5Tset_ebias(t, 15);
    return t;
}
static inline hid_t pgpt_h5t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t pgpt_h5t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t pgpt_h5t_std_i8le(void) { return H5T_STD_I8LE; }
static inline hid_t pgpt_h5t_std_i16le(void) { return H5T_STD_I16LE; }
static inline hid_t pgpt_h5t_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t pgpt_h5t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t pgpt_h5t_std_u8le(void) { return H5T_STD_U8LE; }
static inline hid_t pgpt_h5t_std_u16le(void) { return H5T_STD_U16LE; }
static inline hid_t pgpt_h5t_std_u32le(void) { return H5T_STD_U32LE; }
static inline hid_t pgpt_h5t_std_u64le(void) { return H5T_STD_U64LE; }
static inline hid_t pgpt_h5t_native_int8(void) { return H5T_NATIVE_INT8; }
static inline hid_t pgpt_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t pgpt_h5t_c_s1(void) { return H5T_C_S1; }
static inline size_t pgpt_h5t_variable(void) { return H5T_VARIABLE; }

/// Stops HDF5 from printing its error stack to stderr: errors are reported once, in one line.
static inline void pgpt_h5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

static herr_t pgpt_h5_error_walker(unsigned n, const H5E_error2_t *err, void *data) {
    // The innermost entry (n == 0) says what failed closest to the cause.
    if (n == 0 && err->desc != NULL) {
        strncpy((char *)data, err->desc, 255);
        ((char *)data)[255] = 0;
    }
    return 0;
}

/// Copies the innermost message of the current HDF5 error stack into buffer (256 bytes).
static inline void pgpt_h5_last_error(char *buffer) {
    buffer[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, pgpt_h5_error_walker, buffer);
}
