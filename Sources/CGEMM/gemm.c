// The packed GEMM (CGEMM.h): BLIS-style blocking over weights packed once, an AVX-512, an AVX2 and a
// scalar micro-kernel chosen at run time. Every micro-kernel keeps one accumulator per output element and
// adds the products in k order with fused multiply-adds from zero, continuing the same chain across K
// blocks (the partial sum is stored and reloaded, which is exact), then adds the bias and the residual
// once each (pgpt_gemm_many's epilogue), so blocking, tiling and threading never change an
// element's arithmetic. The scalar reference (Kernels.linearReference) and the checks that hold every
// micro-kernel to it bit for bit (InvarianceTests) live beside the Swift front-end.
#include "CGEMM.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// K block: one x micro-panel (K block × row tile) stays in L1 while the panels of a weight block stream
// past it from L2; a row block of x micro-panels stays in L2. AVX-512 machines (Skylake-SP, Zen 4/5) have
// 1-2 MiB of L2, AVX2 ones down to 512 KiB (Zen 2/3), hence two sizes (pixelgpt bench, base shapes).
enum { ROW_BLOCK_TILES = 16 };
static int64_t k_block(pgpt_isa isa) { return isa == PGPT_ISA_AVX512 ? 512 : 256; }
static int64_t weight_block_bytes(pgpt_isa isa) { return isa == PGPT_ISA_AVX512 ? 384 * 1024 : 256 * 1024; }

pgpt_isa pgpt_gemm_best_isa(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return PGPT_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return PGPT_ISA_AVX2;
#endif
    return PGPT_ISA_SCALAR;
}

int pgpt_gemm_panel_width(pgpt_isa isa) { return isa == PGPT_ISA_AVX512 ? 32 : 16; }

int pgpt_gemm_row_tile(pgpt_isa isa) {
    switch (isa) {
    case PGPT_ISA_AVX512: return 12;
    case PGPT_ISA_AVX2: return 6;
    default: return 4;
    }
}

size_t pgpt_gemm_packed_count(int64_t n, int64_t k, int panel_width) {
    int64_t panels = (n + panel_width - 1) / panel_width;
    return (size_t)panels * (size_t)k * (size_t)panel_width;
}

void pgpt_gemm_pack_nk(float *dst, const float *w, int64_t ldw, int64_t n, int64_t k, int panel_width) {
    int64_t panels = (n + panel_width - 1) / panel_width;
    for (int64_t p = 0; p < panels; p++) {
        float *panel = dst + p * k * panel_width;
        for (int j = 0; j < panel_width; j++) {
            int64_t col = p * panel_width + j;
            if (col < n) {
                const float *row = w + col * ldw;
                for (int64_t kk = 0; kk < k; kk++) panel[kk * panel_width + j] = row[kk];
            } else {
                for (int64_t kk = 0; kk < k; kk++) panel[kk * panel_width + j] = 0;
            }
        }
    }
}

// ---- Micro-kernels: c[MR × P] (leading dimension ldc) = (load ? c : 0) + Σ_k a(r, k) · b(k, j), with
// a(r, k) = x[k·xk + r·xr] and b(k, j) = w[k·wk + j]. Packed operands have xk = MR, xr = 1, wk = P; the
// direct form reads row-major x (xk = 1, xr = ldx) and k-major w (attention's probabilities and values).
// Each body is inlined into a packed and a direct instance, so the packed one sees constant strides.

static inline __attribute__((always_inline)) void body_scalar(int64_t kc, const float *x, int64_t xk, int64_t xr,
                                                               const float *w, int64_t wk, float *c, int64_t ldc, int load) {
    enum { MR = 4, P = 16 };
    float acc[MR][P];
    for (int r = 0; r < MR; r++)
        for (int j = 0; j < P; j++) acc[r][j] = load ? c[r * ldc + j] : 0.0f;
    for (int64_t kk = 0; kk < kc; kk++)
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < P; j++) acc[r][j] = fmaf(x[kk * xk + r * xr], w[kk * wk + j], acc[r][j]);
    for (int r = 0; r < MR; r++)
        for (int j = 0; j < P; j++) c[r * ldc + j] = acc[r][j];
}

static void kernel_scalar(int64_t kc, const float *x, int64_t xr, const float *w, int64_t wk, float *c, int64_t ldc, int load) {
    if (xr == 0) body_scalar(kc, x, 4, 1, w, 16, c, ldc, load);
    else body_scalar(kc, x, 1, xr, w, wk, c, ldc, load);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static inline __attribute__((always_inline)) void
body_avx2(int64_t kc, const float *x, int64_t xk, int64_t xr, const float *w, int64_t wk, float *c, int64_t ldc, int load) {
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
#define LOAD_ROW(r) \
    c##r##0 = load ? _mm256_loadu_ps(c + r * ldc) : _mm256_setzero_ps(); \
    c##r##1 = load ? _mm256_loadu_ps(c + r * ldc + 8) : _mm256_setzero_ps();
    LOAD_ROW(0) LOAD_ROW(1) LOAD_ROW(2) LOAD_ROW(3) LOAD_ROW(4) LOAD_ROW(5)
#undef LOAD_ROW
    for (int64_t kk = 0; kk < kc; kk++) {
        const __m256 w0 = _mm256_loadu_ps(w + kk * wk), w1 = _mm256_loadu_ps(w + kk * wk + 8);
        const float *a = x + kk * xk;
        __m256 b;
#define FMA_ROW(r) \
        b = _mm256_broadcast_ss(a + r * xr); \
        c##r##0 = _mm256_fmadd_ps(b, w0, c##r##0); \
        c##r##1 = _mm256_fmadd_ps(b, w1, c##r##1);
        FMA_ROW(0) FMA_ROW(1) FMA_ROW(2) FMA_ROW(3) FMA_ROW(4) FMA_ROW(5)
#undef FMA_ROW
    }
#define STORE_ROW(r) \
    _mm256_storeu_ps(c + r * ldc, c##r##0); \
    _mm256_storeu_ps(c + r * ldc + 8, c##r##1);
    STORE_ROW(0) STORE_ROW(1) STORE_ROW(2) STORE_ROW(3) STORE_ROW(4) STORE_ROW(5)
#undef STORE_ROW
}

__attribute__((target("avx2,fma")))
static void kernel_avx2(int64_t kc, const float *x, int64_t xr, const float *w, int64_t wk, float *c, int64_t ldc, int load) {
    if (xr == 0) body_avx2(kc, x, 6, 1, w, 16, c, ldc, load);
    else body_avx2(kc, x, 1, xr, w, wk, c, ldc, load);
}

__attribute__((target("avx512f"))) static inline __attribute__((always_inline)) void
body_avx512(int64_t kc, const float *x, int64_t xk, int64_t xr, const float *w, int64_t wk, float *c, int64_t ldc, int load) {
    __m512 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71, c80, c81, c90, c91,
        ca0, ca1, cb0, cb1;
#define LOAD_ROW(r, i) \
    c##r##0 = load ? _mm512_loadu_ps(c + i * ldc) : _mm512_setzero_ps(); \
    c##r##1 = load ? _mm512_loadu_ps(c + i * ldc + 16) : _mm512_setzero_ps();
    LOAD_ROW(0, 0) LOAD_ROW(1, 1) LOAD_ROW(2, 2) LOAD_ROW(3, 3) LOAD_ROW(4, 4) LOAD_ROW(5, 5)
    LOAD_ROW(6, 6) LOAD_ROW(7, 7) LOAD_ROW(8, 8) LOAD_ROW(9, 9) LOAD_ROW(a, 10) LOAD_ROW(b, 11)
#undef LOAD_ROW
    for (int64_t kk = 0; kk < kc; kk++) {
        const __m512 w0 = _mm512_loadu_ps(w + kk * wk), w1 = _mm512_loadu_ps(w + kk * wk + 16);
        const float *a = x + kk * xk;
        __m512 b;
#define FMA_ROW(r, i) \
        b = _mm512_set1_ps(a[i * xr]); \
        c##r##0 = _mm512_fmadd_ps(b, w0, c##r##0); \
        c##r##1 = _mm512_fmadd_ps(b, w1, c##r##1);
        FMA_ROW(0, 0) FMA_ROW(1, 1) FMA_ROW(2, 2) FMA_ROW(3, 3) FMA_ROW(4, 4) FMA_ROW(5, 5)
        FMA_ROW(6, 6) FMA_ROW(7, 7) FMA_ROW(8, 8) FMA_ROW(9, 9) FMA_ROW(a, 10) FMA_ROW(b, 11)
#undef FMA_ROW
    }
#define STORE_ROW(r, i) \
    _mm512_storeu_ps(c + i * ldc, c##r##0); \
    _mm512_storeu_ps(c + i * ldc + 16, c##r##1);
    STORE_ROW(0, 0) STORE_ROW(1, 1) STORE_ROW(2, 2) STORE_ROW(3, 3) STORE_ROW(4, 4) STORE_ROW(5, 5)
    STORE_ROW(6, 6) STORE_ROW(7, 7) STORE_ROW(8, 8) STORE_ROW(9, 9) STORE_ROW(a, 10) STORE_ROW(b, 11)
#undef STORE_ROW
}

__attribute__((target("avx512f")))
static void kernel_avx512(int64_t kc, const float *x, int64_t xr, const float *w, int64_t wk, float *c, int64_t ldc, int load) {
    if (xr == 0) body_avx512(kc, x, 12, 1, w, 32, c, ldc, load);
    else body_avx512(kc, x, 1, xr, w, wk, c, ldc, load);
}
#endif

// xr == 0 selects the packed form (x micro-panel, packed w); otherwise x is row-major with leading
// dimension xr and w is k-major with leading dimension wk.
typedef void (*micro_kernel)(int64_t, const float *, int64_t, const float *, int64_t, float *, int64_t, int);

static micro_kernel kernel_for(pgpt_isa isa) {
#if defined(__x86_64__)
    if (isa == PGPT_ISA_AVX512) return kernel_avx512;
    if (isa == PGPT_ISA_AVX2) return kernel_avx2;
#endif
    return kernel_scalar;
}

// One tile; edge tiles (fewer rows or columns) run the same kernel on a full-size copy, so they add the
// same products in the same order as an interior tile. In the direct form x must hold `rows` rows.
static void tile(micro_kernel kernel, int mr, int pw, int64_t kc, const float *x, int64_t xr, const float *w,
                 int64_t wk, float *c, int64_t ldc, int rows, int cols, int load, float *x_spare) {
    if (rows < mr && xr != 0) {
        // Direct x with missing rows: the present rows and zero rows, contiguous.
        memset(x_spare, 0, (size_t)(mr * kc) * sizeof(float));
        for (int r = 0; r < rows; r++) memcpy(x_spare + r * kc, x + r * xr, (size_t)kc * sizeof(float));
        x = x_spare;
        xr = kc;
    }
    if (rows == mr && cols == pw) {
        kernel(kc, x, xr, w, wk, c, ldc, load);
        return;
    }
    float buffer[12 * 32];
    memset(buffer, 0, sizeof(buffer));
    if (load)
        for (int r = 0; r < rows; r++) memcpy(buffer + r * pw, c + r * ldc, (size_t)cols * sizeof(float));
    kernel(kc, x, xr, w, wk, buffer, pw, 1);
    for (int r = 0; r < rows; r++) memcpy(c + r * ldc, buffer + r * pw, (size_t)cols * sizeof(float));
}

// Scratch buffers per thread (slot 0: x micro-panels of a row block; 1: a direct call's padded rows;
// 2-9: residuals set aside), grown when a call needs more and kept for the thread's life (attention makes
// thousands of small calls per pass; no allocation per call).
static float *scratch(int slot, size_t floats) {
    static _Thread_local float *buffer[10];
    static _Thread_local size_t capacity[10];
    if (floats > capacity[slot]) {
        free(buffer[slot]);
        capacity[slot] = (floats + 4095) & ~(size_t)4095;
        buffer[slot] = aligned_alloc(64, capacity[slot] * sizeof(float));
        if (!buffer[slot]) capacity[slot] = 0;
    }
    return buffer[slot];
}

// One x micro-panel: rows [row0, row0 + mr) (zeros past row_end), columns [k0, k0 + kc), k-major. Written
// k by k so that the stores are contiguous; the mr source rows are read in step.
static void pack_rows(float *panel, const float *x, int64_t ldx, int64_t row0, int64_t row_end, int64_t k0,
                      int64_t kc, int mr) {
    const float *src[12];
    int rows = 0;
    for (int r = 0; r < mr; r++)
        if (row0 + r < row_end) src[rows++] = x + (row0 + r) * ldx + k0;
    if (rows == mr) {
        for (int64_t kk = 0; kk < kc; kk++)
            for (int r = 0; r < mr; r++) panel[kk * mr + r] = src[r][kk];
        return;
    }
    for (int64_t kk = 0; kk < kc; kk++)
        for (int r = 0; r < mr; r++) panel[kk * mr + r] = r < rows ? src[r][kk] : 0.0f;
}

// The columns of a target that panels [panel_begin, panel_end) cover.
static void target_columns(const pgpt_gemm_target *t, int pw, int64_t panel_begin, int64_t panel_end, int64_t *begin, int64_t *end) {
    *begin = panel_begin * pw < t->n ? panel_begin * pw : t->n;
    *end = panel_end * pw < t->n ? panel_end * pw : t->n;
}

int pgpt_gemm_many(pgpt_isa isa, const float *x, int64_t ldx, int64_t k, const pgpt_gemm_target *targets, int count,
                   int64_t row_begin, int64_t row_end, int64_t panel_begin, int64_t panel_end) {
    const int mr = pgpt_gemm_row_tile(isa), pw = pgpt_gemm_panel_width(isa);
    const micro_kernel kernel = kernel_for(isa);
    if (count < 1 || count > 8) return -1;
    if (row_end <= row_begin || panel_end <= panel_begin) return 0;

    const int64_t row_block = (int64_t)mr * ROW_BLOCK_TILES;
    const int64_t kb = k_block(isa), kc_max = k < kb ? k : kb;
    int64_t panels_per_block = weight_block_bytes(isa) / (kc_max * pw * (int64_t)sizeof(float));
    if (panels_per_block < 1) panels_per_block = 1;
    float *xp = scratch(0, (size_t)(row_block * (kc_max > 0 ? kc_max : 1)));
    if (!xp) return -1;
    // A residual (init OUT) is set aside for each row block: the chain runs from zero in `out`, and the
    // residual is added once at the end, as upstream adds x·Wᵀ + b to it (one rounding, not K).
    float *residual[8] = {0};
    for (int i = 0; i < count; i++) {
        if (targets[i].init != PGPT_INIT_OUT) continue;
        int64_t begin, end;
        target_columns(&targets[i], pw, panel_begin, panel_end, &begin, &end);
        residual[i] = scratch(2 + i, (size_t)(row_block * (end - begin > 0 ? end - begin : 1)));
        if (!residual[i]) return -1;
    }

    for (int64_t rb = row_begin; rb < row_end; rb += row_block) {
        const int64_t rb_rows = row_end - rb < row_block ? row_end - rb : row_block;
        const int64_t tiles = (rb_rows + mr - 1) / mr;
        for (int i = 0; i < count; i++) {
            const pgpt_gemm_target *t = &targets[i];
            int64_t begin, end;
            target_columns(t, pw, panel_begin, panel_end, &begin, &end);
            for (int64_t r = 0; r < rb_rows; r++) {
                float *row = t->out + (rb + r) * t->ldo + begin;
                if (residual[i]) memcpy(residual[i] + r * (end - begin), row, (size_t)(end - begin) * sizeof(float));
                if (k == 0) memset(row, 0, (size_t)(end - begin) * sizeof(float));
            }
        }
        for (int64_t k0 = 0; k0 < k; k0 += kb) {
            const int64_t kc = k - k0 < kb ? k - k0 : kb;
            // x micro-panels of this row block and K block, packed once for every target: xp[t][kk·mr + r],
            // zero rows past the end.
            for (int64_t t = 0; t < tiles; t++) pack_rows(xp + t * kc * mr, x, ldx, rb + t * mr, row_end, k0, kc, mr);
            for (int i = 0; i < count; i++) {
                const pgpt_gemm_target *target = &targets[i];
                const int64_t n = target->n, panels = (n + pw - 1) / pw;
                const int64_t last = panel_end < panels ? panel_end : panels;
                for (int64_t pb = panel_begin; pb < last; pb += panels_per_block) {
                    const int64_t pe = last - pb < panels_per_block ? last : pb + panels_per_block;
                    for (int64_t t = 0; t < tiles; t++) {
                        const int64_t row0 = rb + t * mr;
                        const int rows = (int)(rb + rb_rows - row0 < mr ? rb + rb_rows - row0 : mr);
                        for (int64_t p = pb; p < pe; p++) {
                            const int64_t col0 = p * pw;
                            const int cols = (int)(n - col0 < pw ? n - col0 : pw);
                            tile(kernel, mr, pw, kc, xp + t * kc * mr, 0, target->packed + p * k * pw + k0 * pw, pw,
                                 target->out + row0 * target->ldo + col0, target->ldo, rows, cols, k0 > 0, NULL);
                        }
                    }
                }
            }
        }
        // Epilogue, as upstream rounds it: out = residual + (x·Wᵀ + bias).
        for (int i = 0; i < count; i++) {
            const pgpt_gemm_target *t = &targets[i];
            if (!t->bias && !residual[i]) continue;
            int64_t begin, end;
            target_columns(t, pw, panel_begin, panel_end, &begin, &end);
            for (int64_t r = 0; r < rb_rows; r++) {
                float *row = t->out + (rb + r) * t->ldo;
                const float *saved = residual[i] ? residual[i] + r * (end - begin) - begin : NULL;
                for (int64_t j = begin; j < end; j++) {
                    float v = row[j];
                    if (t->bias) v = v + t->bias[j];
                    if (saved) v = saved[j] + v;
                    row[j] = v;
                }
            }
        }
    }
    return 0;
}

int pgpt_gemm_direct(pgpt_isa isa, float *out, int64_t ldo, const float *x, int64_t ldx, const float *w,
                     int64_t panel_stride, int64_t ldw, int64_t rows, int64_t n, int64_t k) {
    const int mr = pgpt_gemm_row_tile(isa), pw = pgpt_gemm_panel_width(isa);
    const micro_kernel kernel = kernel_for(isa);
    if (rows <= 0 || n <= 0) return 0;
    if (k == 0) {
        for (int64_t r = 0; r < rows; r++) memset(out + r * ldo, 0, (size_t)n * sizeof(float));
        return 0;
    }
    float *spare = scratch(1, (size_t)(mr * k));
    if (!spare) return -1;
    const int64_t panels = (n + pw - 1) / pw;
    for (int64_t row0 = 0; row0 < rows; row0 += mr) {
        const int count = (int)(rows - row0 < mr ? rows - row0 : mr);
        for (int64_t p = 0; p < panels; p++) {
            const int cols = (int)(n - p * pw < pw ? n - p * pw : pw);
            tile(kernel, mr, pw, k, x + row0 * ldx, ldx, w + p * panel_stride, ldw, out + row0 * ldo + p * pw, ldo,
                 count, cols, 0, spare);
        }
    }
    return 0;
}
