// The packed GEMM behind every projection of the forward pass: out[r, n] = residual[r, n] + (Σ_k x[r, k]·w[n, k]
// + bias[n]), the sum one chain of fused multiply-adds from zero over k = 0, 1, …, K−1 in that order, whatever
// the instruction set, the tile, the number of rows in the call, the row's place in it or the thread split;
// the bias and the residual are added after it, once each, as upstream adds them.
// That fixed order is what makes the forward pass batch-invariant and thread-invariant (docs/numerics.md).
#ifndef PIXELGPT_CGEMM_H
#define PIXELGPT_CGEMM_H

#include <stddef.h>
#include <stdint.h>

/// The instruction sets of the micro-kernel. Every one computes the same bits (FMA is exactly rounded);
/// they differ only in speed. PGPT_ISA_SCALAR calls fmaf and runs anywhere.
typedef enum {
    PGPT_ISA_SCALAR = 0,
    PGPT_ISA_AVX2 = 1,
    PGPT_ISA_AVX512 = 2,
} pgpt_isa;

/// The fastest instruction set this CPU supports (CPUID, once).
pgpt_isa pgpt_gemm_best_isa(void);

/// Output columns per packed panel: 32 (AVX-512), 16 (AVX2 and scalar).
int pgpt_gemm_panel_width(pgpt_isa isa);

/// Rows per micro-tile: 12 (AVX-512), 6 (AVX2), 4 (scalar).
int pgpt_gemm_row_tile(pgpt_isa isa);

/// Floats a packed [N, K] matrix occupies: ⌈N / panel⌉ panels of K × panel values, zero-padded columns.
size_t pgpt_gemm_packed_count(int64_t n, int64_t k, int panel_width);

/// Packs w, [N, K] row-major with leading dimension ldw (a Linear weight [out, in]), into panels:
/// dst[p·K·P + k·P + j] = w[p·P + j, k], 0 past N.
void pgpt_gemm_pack_nk(float *dst, const float *w, int64_t ldw, int64_t n, int64_t k, int panel_width);

/// What `out` holds before the call.
typedef enum {
    PGPT_INIT_ZERO = 0,   // nothing: out = x·Wᵀ (+ bias)
    PGPT_INIT_OUT = 1,    // a residual: out = out + (x·Wᵀ (+ bias))
} pgpt_init;

/// One product of a GEMM call: out [rows, N] (leading dimension ldo) = (residual +) (x·Wᵀ (+ bias)), with W
/// packed [N, K] by pgpt_gemm_pack_nk with the call's panel width.
typedef struct {
    float *out;
    int64_t ldo;
    const float *packed;
    int64_t n;
    const float *bias;
    pgpt_init init;
} pgpt_gemm_target;

/// Rows [row_begin, row_end) × panels [panel_begin, panel_end) (clipped to each target's panels) of 1 to 8
/// products of one x [rows, K] (leading dimension ldx): the projections that read the same normed
/// activations (q, k, v; gate, up) pack x once. Threads call it on disjoint ranges; any split gives the
/// same bits. Returns 0, or −1 when scratch memory could not be allocated or count is out of range.
int pgpt_gemm_many(pgpt_isa isa, const float *x, int64_t ldx, int64_t k, const pgpt_gemm_target *targets, int count,
                   int64_t row_begin, int64_t row_end, int64_t panel_begin, int64_t panel_end);

/// out[rows × N] = x·W without packing x: x row-major [rows, K] (ldx ≥ K), W read in panels of the panel
/// width, panel p at w + p·panel_stride, element (k, j) of a panel at [k·ldw + j]. Columns past N inside the
/// last panel are read (and discarded), so they must be readable. Packed weights: panel_stride = K·P, ldw =
/// P. A k-major matrix [K, ≥ ⌈N/P⌉·P]: panel_stride = P, ldw = its leading dimension (attention's values).
/// The same chains as pgpt_gemm, so the same bits. One thread.
int pgpt_gemm_direct(pgpt_isa isa, float *out, int64_t ldo, const float *x, int64_t ldx, const float *w,
                     int64_t panel_stride, int64_t ldw, int64_t rows, int64_t n, int64_t k);

#endif
