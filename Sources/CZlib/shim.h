// zlib: inflating the original's gzip JSON-lines datasets (rendered_GLUE, rendered_xnli; SPEC 7.1, 7.2).
#include <zlib.h>
