// OpenBLAS: CBLAS interface (sgemm) plus its thread and build queries (openblas_set_num_threads, openblas_get_config).
#include <cblas.h>
