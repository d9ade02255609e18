// The AVX2 int8 depthwise convolution (see CParlaQS8.h and docs/int8-kernels.md); the shared helpers are in qs8_x86.h.
#include "qs8_x86.h"

#if defined(__x86_64__)
#include <stdlib.h>

// MARK: Depthwise

/// Accumulator lane order. Per block of 16 channels and pair of taps, vpunpcklwd/vpunpckhwd of two widened tap
/// vectors give `lo` = channels 0-3 | 8-11 and `hi` = channels 4-7 | 12-15 (by 128-bit half); the accumulators stay
/// in that order through bias and epilogue (the per-channel rows are permuted once per call), and vpackssdw of
/// (lo, hi) puts the 16 channels back in order.
static inline ptrdiff_t dw_lane_channel(ptrdiff_t j) { return j < 8 ? (j < 4 ? j : j + 4) : (j < 12 ? j - 4 : j); }

/// Rows of the per-call epilogue table, `cp` int32 each, in accumulator lane order.
enum {
    DW_BIAS,  // bias − zp·Σw
    DW_M, DW_RIGHT, DW_MASK, DW_HALF,  // positive branch: multiplier, right shift, 2^right − 1, mask >> 1
    DW_NM, DW_NRIGHT, DW_NMASK, DW_NHALF,  // the same for the negative branch
    DW_RQ,  // 6 rows: rq->table permuted (the general epilogue)
    DW_ROWS = DW_RQ + 6
};

/// Adds the products of `pairs` tap pairs of 16 channels at offset c into lo/hi (tap pointers in `ptr`).
PARLA_AVX2_INLINE void depthwise_pairs(const int8_t *const *ptr, ptrdiff_t c, ptrdiff_t pairs, const int16_t *w,
                                       __m256i *lo, __m256i *hi) {
    for (ptrdiff_t p = 0; p < pairs; p++) {
        __m256i x0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(ptr[2 * p] + c)));
        __m256i x1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(ptr[2 * p + 1] + c)));
        *lo = _mm256_add_epi32(*lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1),
                                                       _mm256_loadu_si256((const __m256i *)(const void *)(w + p * 32))));
        *hi = _mm256_add_epi32(*hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1),
                                                       _mm256_loadu_si256((const __m256i *)(const void *)(w + p * 32 + 16))));
    }
}

PARLA_AVX2_INLINE __m256i dw_load16(const int8_t *p) {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)p));
}

/// One tap pair of the 3×3 row path: weights already in registers.
#define PARLA_DW_PAIR(x0, x1, wl, wh)                                                        \
    do {                                                                                     \
        __m256i a_ = (x0), b_ = (x1);                                                        \
        lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a_, b_), (wl)));   \
        hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a_, b_), (wh)));   \
    } while (0)

/// The epilogue of 8 accumulators (bias included) at lane offset c of the permuted table `t` (`cp` per row), for a
/// requantizer with `simple` set: rounding-divide mask and half precomputed per channel, no left shift.
/// `split` (a literal): the 8 lanes are channels 0-7 of a block, whose rows sit at lane offsets 0-3 and 8-11.
PARLA_AVX2_INLINE __m256i dw_row(const int32_t *p, const int split) {
    return split ? _mm256_loadu2_m128i((const __m128i *)(const void *)(p + 8), (const __m128i *)(const void *)p) : load8(p);
}

PARLA_AVX2_INLINE __m256i dw_requantize_simple(__m256i v, const int32_t *t, ptrdiff_t cp, int negative,
                                               const rq_vectors *r, const int split) {
    __m256i m = dw_row(t + DW_M * cp, split), right = dw_row(t + DW_RIGHT * cp, split);
    __m256i mask = dw_row(t + DW_MASK * cp, split), half = dw_row(t + DW_HALF * cp, split);
    if (negative) {
        __m256i n = _mm256_srai_epi32(v, 31);
        m = _mm256_blendv_epi8(m, dw_row(t + DW_NM * cp, split), n);
        right = _mm256_blendv_epi8(right, dw_row(t + DW_NRIGHT * cp, split), n);
        mask = _mm256_blendv_epi8(mask, dw_row(t + DW_NMASK * cp, split), n);
        half = _mm256_blendv_epi8(half, dw_row(t + DW_NHALF * cp, split), n);
    }
    const __m256i round = _mm256_set1_epi64x((int64_t)1 << 30);
    __m256i even = _mm256_add_epi64(_mm256_mul_epi32(v, m), round);
    __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(v, 32), _mm256_srli_epi64(m, 32)), round);
    __m256i h = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
    // rdbpot8 with the mask and half from the table.
    __m256i threshold = _mm256_sub_epi32(half, _mm256_srai_epi32(h, 31));
    __m256i above = _mm256_cmpgt_epi32(_mm256_and_si256(h, mask), threshold);
    __m256i q = _mm256_add_epi32(_mm256_sub_epi32(_mm256_srav_epi32(h, right), above), r->zero_point);
    return _mm256_min_epi32(_mm256_max_epi32(q, r->minimum), r->maximum);
}

/// Requantizes lo/hi (16 channels of block offset c, bias not yet added) and stores `lanes` (1...16) bytes.
PARLA_AVX2_INLINE void dw_finish(__m256i lo, __m256i hi, const int32_t *table, ptrdiff_t cp, ptrdiff_t c,
                                 const rq_vectors *r, const rq_vectors *rp, int8_t *out, ptrdiff_t lanes) {
    const int32_t *t = table + c;
    lo = _mm256_add_epi32(lo, load8(t + DW_BIAS * cp));
    hi = _mm256_add_epi32(hi, load8(t + DW_BIAS * cp + 8));
    __m256i qlo, qhi;
    if (r->simple) {
        qlo = dw_requantize_simple(lo, t, cp, r->negative, r, 0);
        qhi = dw_requantize_simple(hi, t + 8, cp, r->negative, r, 0);
    } else {
        qlo = requantize8(lo, rp, c);
        qhi = requantize8(hi, rp, c + 8);
    }
    __m256i w = _mm256_packs_epi32(qlo, qhi);  // int16: channels 0-7 | 8-15
    __m128i b = _mm_packs_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
    if (lanes >= 16) {
        _mm_storeu_si128((__m128i *)(void *)out, b);
    } else {
        int8_t tmp[16];
        _mm_storeu_si128((__m128i *)(void *)tmp, b);
        memcpy(out, tmp, (size_t)lanes);
    }
}

/// The first 8 channels of a block (a last block of at most 8, simple requantizer only): `lo` and `hi` hold
/// channels 0-3 and 4-7 (the low halves of the 16-channel accumulators); stores `lanes` (1...8) bytes.
PARLA_AVX2_INLINE void dw_finish8(__m128i lo, __m128i hi, const int32_t *table, ptrdiff_t cp, ptrdiff_t c,
                                  const rq_vectors *r, int8_t *out, ptrdiff_t lanes) {
    const int32_t *t = table + c;
    __m256i v = _mm256_add_epi32(_mm256_set_m128i(hi, lo), dw_row(t + DW_BIAS * cp, 1));
    store8(out, dw_requantize_simple(v, t, cp, r->negative, r, 1), lanes);
}

/// Output rows [row_begin, row_end). Per call, the bias (with the input zero point folded in: bias − zp·Σw) and
/// the requantizer's rows are permuted into accumulator lane order, with the rounding divide's mask and half
/// precomputed. Per output row, rows of the window outside the image point at a row of input zero points (which
/// adds (zp − zp)·w = 0 like the reference's clipping). Pixels whose window lies inside the image columns run the
/// row path (3×3: the 10 weight vectors held in registers, fixed tap offsets from 3 row pointers); the border
/// columns gather per-tap pointers. Per block of 16 channels and pair of taps: 2 widening loads, vpunpcklwd/hwd,
/// 2 vpmaddwd against the interleaved weights, 2 vpaddd.
PARLA_AVX2_INLINE void depthwise(const parla_qs8_depthwise *d, const parla_qs8_requant *rq, ptrdiff_t row_begin,
                                 ptrdiff_t row_end) {
    const ptrdiff_t C = d->channels, cp = d->padded_channels, kh = d->kernel_height, kw = d->kernel_width;
    const ptrdiff_t ih = d->input_height, iw = d->input_width, ow = d->output_width, sx = d->stride_x;
    const ptrdiff_t taps = kh * kw, pairs = (taps + 1) / 2;
    const int8_t *const end = d->input + ih * iw * C;
    // One allocation: the permuted table, then a zero-point row of a whole input row (+ 32 bytes of slack).
    const size_t table_bytes = (size_t)(DW_ROWS * cp) * sizeof(int32_t), zero_bytes = (size_t)(iw * C + 32);
    int32_t *table = malloc(table_bytes + zero_bytes);
    if (!table) abort();  // a few KiB; allocation failure here is not recoverable
    int8_t *zero_row = (int8_t *)(table + DW_ROWS * cp);
    memset(zero_row, (int)(int8_t)d->input_zero_point, zero_bytes);
    const ptrdiff_t rs = rq->stride;
    // Only the rows the epilogue reads: the simple form's (negative branch only with one), else rq's permuted.
    const int branches = rq->simple ? (rq->has_negative ? 2 : 1) : 0;
    for (ptrdiff_t c = 0; c < cp; c++) {
        const ptrdiff_t src = c / 16 * 16 + dw_lane_channel(c % 16);
        table[DW_BIAS * cp + c] =
            (int32_t)((uint32_t)d->bias[src] - (uint32_t)d->input_zero_point * (uint32_t)d->weight_sums[src]);
        if (!rq->simple) {
            for (int row = 0; row < 6; row++) table[(DW_RQ + row) * cp + c] = rq->table[row * rs + src];
        }
        for (int branch = 0; branch < branches; branch++) {
            const int32_t m = rq->table[3 * branch * rs + src], right = rq->table[(3 * branch + 2) * rs + src];
            const int base = branch ? DW_NM : DW_M;
            const int32_t mask = right >= 32 ? -1 : (int32_t)((1u << right) - 1u);  // as vpsllvd makes it
            table[base * cp + c] = m;
            table[(base + DW_RIGHT - DW_M) * cp + c] = right;
            table[(base + DW_MASK - DW_M) * cp + c] = mask;
            table[(base + DW_HALF - DW_M) * cp + c] = mask >> 1;
        }
    }
    rq_vectors r = rq_load(rq), rp = r;
    rp.table = table + DW_RQ * cp;
    rp.stride = cp;
    // Interior columns: the window lies inside the image's columns.
    ptrdiff_t x_lo = (d->pad_left + sx - 1) / sx, x_hi = iw - kw + d->pad_left >= 0 ? (iw - kw + d->pad_left) / sx + 1 : 0;
    if (x_hi > ow) x_hi = ow;
    if (x_lo > x_hi) x_lo = x_hi;
    const int8_t *ptr[2 * pairs];
    const int8_t *rows[kh];
    int8_t tail[2 * pairs][16];
    for (ptrdiff_t oy = row_begin; oy < row_end; oy++) {
        const ptrdiff_t iy0 = oy * d->stride_y - d->pad_top;
        const int8_t *last_real = NULL;  // the last window row inside the image
        for (ptrdiff_t ky = 0; ky < kh; ky++) {
            const ptrdiff_t iy = iy0 + ky;
            rows[ky] = iy >= 0 && iy < ih ? d->input + iy * iw * C : zero_row;
            if (rows[ky] != zero_row) last_real = rows[ky];
        }
        int8_t *out_row = d->output + oy * ow * C;
        if (kh != 3 || kw != 3) {
            // Other kernel sizes: per pixel the tap pointers once, then every block of channels.
            for (ptrdiff_t ox = 0; ox < ow; ox++) {
                const ptrdiff_t ix0 = ox * sx - d->pad_left;
                if (ix0 >= 0 && ix0 + kw <= iw) {  // inside the columns: zero rows are whole rows of zero points
                    for (ptrdiff_t ky = 0, t = 0; ky < kh; ky++) {
                        for (ptrdiff_t kx = 0; kx < kw; kx++, t++) ptr[t] = rows[ky] + (ix0 + kx) * C;
                    }
                } else {
                    for (ptrdiff_t ky = 0, t = 0; ky < kh; ky++) {
                        for (ptrdiff_t kx = 0; kx < kw; kx++, t++) {
                            const ptrdiff_t ix = ix0 + kx;
                            ptr[t] = rows[ky] != zero_row && ix >= 0 && ix < iw ? rows[ky] + ix * C : zero_row;
                        }
                    }
                }
                if (taps % 2) ptr[taps] = ptr[taps - 1];  // its weights are 0
                for (ptrdiff_t c = 0; c < C; c += 16) {
                    const int16_t *w = d->weights + (c / 16) * pairs * 32;
                    __m256i lo = _mm256_setzero_si256(), hi = lo;
                    if (c + 16 <= C) {
                        depthwise_pairs(ptr, c, pairs, w, &lo, &hi);
                    } else {
                        // The last partial block: never read past the input (the channels beyond C have zero weights).
                        const int8_t *part[2 * pairs];
                        for (ptrdiff_t t = 0; t < 2 * pairs; t++) {
                            part[t] = ptr[t] == zero_row ? zero_row : ptr[t] + c;
                            if (part[t] != zero_row && part[t] + 16 > end) {
                                memcpy(tail[t], part[t], (size_t)(C - c));
                                part[t] = tail[t];
                            }
                        }
                        depthwise_pairs(part, 0, pairs, w, &lo, &hi);
                    }
                    dw_finish(lo, hi, table, cp, c, &r, &rp, out_row + ox * C + c, C - c < 16 ? C - c : 16);
                }
            }
            continue;
        }
        // 3×3: per block of 16 channels the weights in registers across the row.
        for (ptrdiff_t c = 0; c < C; c += 16) {
            const int16_t *w = d->weights + (c / 16) * pairs * 32;
            const ptrdiff_t lanes = C - c < 16 ? C - c : 16;
            // A last block of at most 8 channels runs on 128-bit vectors (8-byte loads), half the work.
            const int narrow = lanes <= 8 && r.simple;
            // The clipped path for one pixel: per-tap pointers (zero row outside the image).
#define PARLA_DW_PIXEL(ox)                                                                                           \
    do {                                                                                                             \
        const ptrdiff_t ix0_ = (ox) * sx - d->pad_left;                                                              \
        for (ptrdiff_t ky = 0, t = 0; ky < 3; ky++) {                                                                \
            for (ptrdiff_t kx = 0; kx < 3; kx++, t++) {                                                              \
                const ptrdiff_t ix = ix0_ + kx;                                                                      \
                ptr[t] = rows[ky] != zero_row && ix >= 0 && ix < iw ? rows[ky] + ix * C + c : zero_row;             \
                if (ptr[t] != zero_row && ptr[t] + 16 > end) { /* partial block at the end: never read past it */   \
                    memcpy(tail[t], ptr[t], (size_t)(C - c));                                                        \
                    ptr[t] = tail[t];                                                                                \
                }                                                                                                    \
            }                                                                                                        \
        }                                                                                                            \
        ptr[9] = ptr[8]; /* its weights are 0 */                                                                     \
        __m256i lo_ = _mm256_setzero_si256(), hi_ = lo_;                                                             \
        depthwise_pairs(ptr, 0, 5, w, &lo_, &hi_);                                                                   \
        if (narrow) {                                                                                                \
            dw_finish8(_mm256_castsi256_si128(lo_), _mm256_castsi256_si128(hi_), table, cp, c, &r,                  \
                       out_row + (ox) * C + c, lanes);                                                               \
        } else {                                                                                                     \
            dw_finish(lo_, hi_, table, cp, c, &r, &rp, out_row + (ox) * C + c, lanes);                               \
        }                                                                                                            \
    } while (0)
            // Interior pixels whose 16-byte reads stay inside the input (only the last partial block can pass it).
            ptrdiff_t x_end = x_hi;
            if (lanes < 16 && last_real) {
                const ptrdiff_t width = narrow ? 8 : 16;
                while (x_end > x_lo && last_real + ((x_end - 1) * sx - d->pad_left + 2) * C + c + width > end) x_end--;
            }
            for (ptrdiff_t ox = 0; ox < x_lo; ox++) PARLA_DW_PIXEL(ox);
            if (narrow) {
                __m128i wl[5], wh[5];
                for (int q = 0; q < 5; q++) {
                    wl[q] = _mm_loadu_si128((const __m128i *)(const void *)(w + q * 32));
                    wh[q] = _mm_loadu_si128((const __m128i *)(const void *)(w + q * 32 + 16));
                }
                const ptrdiff_t C2 = 2 * C, step = sx * C;
                const int8_t *p0 = rows[0] + (x_lo * sx - d->pad_left) * C + c;
                const int8_t *p1 = rows[1] + (x_lo * sx - d->pad_left) * C + c;
                const int8_t *p2 = rows[2] + (x_lo * sx - d->pad_left) * C + c;
#define PARLA_DW_LOAD8(p) _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(const void *)(p)))
#define PARLA_DW_PAIR8(x0, x1, q)                                                            \
    do {                                                                                     \
        __m128i a_ = (x0), b_ = (x1);                                                        \
        lo = _mm_add_epi32(lo, _mm_madd_epi16(_mm_unpacklo_epi16(a_, b_), wl[q]));           \
        hi = _mm_add_epi32(hi, _mm_madd_epi16(_mm_unpackhi_epi16(a_, b_), wh[q]));           \
    } while (0)
                for (ptrdiff_t ox = x_lo; ox < x_end; ox++, p0 += step, p1 += step, p2 += step) {
                    __m128i lo = _mm_setzero_si128(), hi = lo;
                    __m128i x22 = PARLA_DW_LOAD8(p2 + C2);
                    PARLA_DW_PAIR8(PARLA_DW_LOAD8(p0), PARLA_DW_LOAD8(p0 + C), 0);
                    PARLA_DW_PAIR8(PARLA_DW_LOAD8(p0 + C2), PARLA_DW_LOAD8(p1), 1);
                    PARLA_DW_PAIR8(PARLA_DW_LOAD8(p1 + C), PARLA_DW_LOAD8(p1 + C2), 2);
                    PARLA_DW_PAIR8(PARLA_DW_LOAD8(p2), PARLA_DW_LOAD8(p2 + C), 3);
                    PARLA_DW_PAIR8(x22, x22, 4);
                    dw_finish8(lo, hi, table, cp, c, &r, out_row + ox * C + c, lanes);
                }
#undef PARLA_DW_PAIR8
#undef PARLA_DW_LOAD8
                for (ptrdiff_t ox = x_end; ox < ow; ox++) PARLA_DW_PIXEL(ox);
                continue;
            }
            const __m256i *wv = (const __m256i *)(const void *)w;
            const __m256i w0 = _mm256_loadu_si256(wv + 0), w1 = _mm256_loadu_si256(wv + 1);
            const __m256i w2 = _mm256_loadu_si256(wv + 2), w3 = _mm256_loadu_si256(wv + 3);
            const __m256i w4 = _mm256_loadu_si256(wv + 4), w5 = _mm256_loadu_si256(wv + 5);
            const __m256i w6 = _mm256_loadu_si256(wv + 6), w7 = _mm256_loadu_si256(wv + 7);
            const __m256i w8 = _mm256_loadu_si256(wv + 8), w9 = _mm256_loadu_si256(wv + 9);
            const ptrdiff_t C2 = 2 * C, step = sx * C;
            const int8_t *p0 = rows[0] + (x_lo * sx - d->pad_left) * C + c;
            const int8_t *p1 = rows[1] + (x_lo * sx - d->pad_left) * C + c;
            const int8_t *p2 = rows[2] + (x_lo * sx - d->pad_left) * C + c;
            for (ptrdiff_t ox = x_lo; ox < x_end; ox++, p0 += step, p1 += step, p2 += step) {
                __m256i lo = _mm256_setzero_si256(), hi = lo;
                __m256i x22 = dw_load16(p2 + C2);
                PARLA_DW_PAIR(dw_load16(p0), dw_load16(p0 + C), w0, w1);
                PARLA_DW_PAIR(dw_load16(p0 + C2), dw_load16(p1), w2, w3);
                PARLA_DW_PAIR(dw_load16(p1 + C), dw_load16(p1 + C2), w4, w5);
                PARLA_DW_PAIR(dw_load16(p2), dw_load16(p2 + C), w6, w7);
                PARLA_DW_PAIR(x22, x22, w8, w9);  // the 10th tap's weights are 0
                dw_finish(lo, hi, table, cp, c, &r, &rp, out_row + ox * C + c, lanes);
            }
            for (ptrdiff_t ox = x_end; ox < ow; ox++) PARLA_DW_PIXEL(ox);
#undef PARLA_DW_PIXEL
        }
    }
    free(table);
}

// MARK: 3×3 and 5×5 stride 1 with AVX-512 VNNI

#define PARLA_DW_VNNI_INLINE \
    static inline __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni"), always_inline))

/// Rows of depthwise_vnni's per-call epilogue table: per phase, per row, per accumulator k, 16 lanes.
enum { DV_BIAS, DV_M, DV_MO, DV_RIGHT, DV_ROUND, DV_NM, DV_NRIGHT, DV_NROUND, DV_ROWS };

/// The number of phases of depthwise_vnni's chunks: they start at channel (64·i) mod C, so C / gcd(64, C).
static ptrdiff_t dw_vnni_phases(ptrdiff_t C) {
    ptrdiff_t phases = C;
    while (phases % 2 == 0 && 64 % (C / phases * 2) == 0) phases /= 2;
    return phases;
}

/// Whether depthwise_vnni computes this convolution bit-exactly: 3×3 or 5×5, stride 1 (or 2 for 5×5), a simple
/// requantizer whose right shifts are 1...31 and accumulators below 2^30 in magnitude (|bias − zp·Σw| +
/// taps·255·127, weights in −127...127), so that the rounding constant can be added to SRDHM's result without
/// overflow.
static int dw_vnni_fits(const parla_qs8_depthwise *d, const parla_qs8_requant *rq) {
    const ptrdiff_t K = d->kernel_height;
    if ((K != 3 && K != 5) || d->kernel_width != K || !rq->simple) return 0;
    // Stride 2 only for 5×5: with 3×3 copying the rows (twice the input of stride 1) cost as much as the kernel saved
    // (0.90–1.19× of the old path on 3×3/2 layers; 5×5/2 0.48–0.88×).
    if ((d->stride_x != 1 && !(d->stride_x == 2 && K == 5)) || d->stride_y != d->stride_x) return 0;
    if (d->pad_left < 0 || d->pad_left > K - 1 || d->output_width < 1) return 0;
    if (dw_vnni_phases(d->channels) > 16) return 0;  // the weight vectors of every phase: at most 36 KiB
    for (ptrdiff_t c = 0; c < d->channels; c++) {
        for (int branch = 0; branch < (rq->has_negative ? 2 : 1); branch++) {
            const int32_t right = rq->table[(3 * branch + 2) * rq->stride + c];
            if (right < 1 || right > 31) return 0;
        }
        const int64_t bias = d->bias[c] - (int64_t)d->input_zero_point * d->weight_sums[c];
        if ((bias < 0 ? -bias : bias) + K * K * 255 * 127 >= (int64_t)1 << 30) return 0;
    }
    return 1;
}

/// The simple epilogue of 16 accumulators (bias included): SRDHM(v, m) as the high half of 2v·m + 2^31 (|v| < 2^30;
/// vpmuldq on the even lanes and on the odd lanes shifted down, against DV_MO, the multipliers of the odd lanes moved
/// down), then the rounding divide by 2^r (r ≥ 1) with ties away from zero as ⌊(h + 2^(r−1) − [h < 0]) / 2^r⌋ (h's
/// sign by vpsrad), which dw_vnni_fits keeps inside int32. `t` points at the accumulator's lanes of row DV_BIAS,
/// rows are 64 values apart; `negative` selects the PReLU branch's rows by the accumulator's sign.
PARLA_DW_VNNI_INLINE __m512i dv_requantize(__m512i v, const int32_t *t, int negative) {
    __m512i m = _mm512_load_si512(t + 64 * DV_M), right = _mm512_load_si512(t + 64 * DV_RIGHT);
    __m512i round = _mm512_load_si512(t + 64 * DV_ROUND), mo;
    if (negative) {
        const __mmask16 n = _mm512_cmplt_epi32_mask(v, _mm512_setzero_si512());
        m = _mm512_mask_load_epi32(m, n, t + 64 * DV_NM);
        right = _mm512_mask_load_epi32(right, n, t + 64 * DV_NRIGHT);
        round = _mm512_mask_load_epi32(round, n, t + 64 * DV_NROUND);
        mo = _mm512_srli_epi64(m, 32);
    } else {
        mo = _mm512_load_si512(t + 64 * DV_MO);
    }
    const __m512i half = _mm512_set1_epi64((int64_t)1 << 31);
    v = _mm512_add_epi32(v, v);
    __m512i even = _mm512_add_epi64(_mm512_mul_epi32(v, m), half);
    __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(v, 32), mo), half);
    __m512i h = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
    h = _mm512_add_epi32(_mm512_add_epi32(h, round), _mm512_srai_epi32(h, 31));
    return _mm512_srav_epi32(h, right);
}

/// Output byte (within a chunk of 64) of lane `lane` of accumulator k. One tap per vpdpbusd (`paired` 0): byte 4i + k
/// in dword i, the weight vector of accumulator k keeps byte k of each dword. Tap pairs (`paired` 1): vpunpcklbw /
/// vpunpckhbw of two taps' chunks put bytes 2i, 2i + 1 of the low / high 8 of each 128-bit lane in dword i, and two
/// weight vectors keep the even (k = 0, 2) or the odd (k = 1, 3) byte's 2 taps.
static inline ptrdiff_t dv_byte(int paired, int k, int lane) {
    return paired ? 16 * (lane / 4) + 8 * (k / 2) + 2 * (lane % 4) + k % 2 : 4 * lane + k;
}

/// One output row of depthwise_vnni with a K×K kernel (K a literal): output byte j takes byte j of each tap's run
/// `tap[t]`. `wv`: per phase (chunk index mod `phases`) the
/// weight vectors, `table`: per phase the epilogue rows. `paired` (a literal): tap pairs (4 weight vectors per
/// pair, the last tap paired with a zero-weight copy: for 3×3 20 vpdpbusd and 10 unpacks per chunk), read from
/// memory at each chunk; else (3×3 with one phase: C divides 64) one tap per vpdpbusd (36 weight vectors: 36
/// vpdpbusd, no unpack, faster with the weights in registers, loaded once per row).
PARLA_DW_VNNI_INLINE void dv_row(const uint8_t *const *tap, int8_t *out, ptrdiff_t bytes, const __m512i *wv,
                                 ptrdiff_t phases, const int32_t *table, const parla_qs8_requant *rq, const int K,
                                 const int paired) {
    const int taps = K * K, pairs = (taps + 1) / 2;
    const __m512i zp16 = _mm512_set1_epi16((int16_t)rq->zero_point);
    const __m512i lo8 = _mm512_set1_epi8((char)rq->activation_min), hi8 = _mm512_set1_epi8((char)rq->activation_max);
    const int clamp = rq->activation_min > INT8_MIN || rq->activation_max < INT8_MAX, negative = rq->has_negative;
    // The packs leave byte 4k + i of each 128-bit lane holding accumulator k's lane i: back to dv_byte's order.
    const __m512i order = _mm512_broadcast_i32x4(
        paired ? _mm_setr_epi8(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15)
               : _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    __m512i w[36];
    if (!paired) {
        for (int i = 0; i < 36; i++) w[i] = _mm512_load_si512(wv + i);
    }
    ptrdiff_t index = 0;
    for (ptrdiff_t j = 0; j < bytes; j += 64) {
        const __m512i *wp = wv + 4 * pairs * index;
        const int32_t *tp = table + 64 * DV_ROWS * index;
        __m512i acc[4];
        for (int k = 0; k < 4; k++) acc[k] = _mm512_load_si512(tp + 64 * DV_BIAS + 16 * k);
        for (int t = 0; t < 9 && !paired; t++) {
            const __m512i u = _mm512_loadu_si512(tap[t] + j);
            for (int k = 0; k < 4; k++) acc[k] = _mm512_dpbusd_epi32(acc[k], u, w[4 * t + k]);
        }
        for (int q = 0; q < pairs && paired; q++) {
            const int t0 = 2 * q, t1 = 2 * q + 1 < taps ? 2 * q + 1 : 2 * q;  // the last tap again, zero weights
            const __m512i a = _mm512_loadu_si512(tap[t0] + j), b = _mm512_loadu_si512(tap[t1] + j);
            const __m512i lo = _mm512_unpacklo_epi8(a, b), hi = _mm512_unpackhi_epi8(a, b);
            acc[0] = _mm512_dpbusd_epi32(acc[0], lo, _mm512_load_si512(wp + 4 * q));
            acc[1] = _mm512_dpbusd_epi32(acc[1], lo, _mm512_load_si512(wp + 4 * q + 1));
            acc[2] = _mm512_dpbusd_epi32(acc[2], hi, _mm512_load_si512(wp + 4 * q + 2));
            acc[3] = _mm512_dpbusd_epi32(acc[3], hi, _mm512_load_si512(wp + 4 * q + 3));
        }
        __m512i r[4];
        for (int k = 0; k < 4; k++) r[k] = dv_requantize(acc[k], tp + 16 * k, negative);
        const __m512i a = _mm512_adds_epi16(_mm512_packs_epi32(r[0], r[1]), zp16);
        const __m512i b = _mm512_adds_epi16(_mm512_packs_epi32(r[2], r[3]), zp16);
        __m512i y = _mm512_shuffle_epi8(_mm512_packs_epi16(a, b), order);
        if (clamp) y = _mm512_min_epi8(_mm512_max_epi8(y, lo8), hi8);
        if (bytes - j >= 64) {
            _mm512_storeu_si512(out + j, y);
        } else {
            _mm512_mask_storeu_epi8(out + j, ~0ull >> (64 - (bytes - j)), y);
        }
        if (++index == phases) index = 0;
    }
}

/// K×K depthwise with vpdpbusd (K a literal, 3 or 5; stride 1 or 2; requires dw_vnni_fits). With stride 1 an output
/// row is a run of ow·C bytes in which output byte j takes input bytes j + kx·C of its K window rows, once those rows
/// are copied with their padding columns (pixels −pad_left ... ow + K − 2 − pad_left; outside the image the zero
/// point) and made unsigned (x ^ 0x80) into scratch: a ring of K rows, one copy per input row. With stride 2 the
/// copy splits the row's padded pixels into an even and an odd plane (vpermt2q on 128 bytes where C is 8, 16, 32
/// or 64, else pixel by pixel), and tap kx reads plane kx % 2 from byte (kx / 2)·C on: the same runs. Per 64 output bytes and tap, 4 vpdpbusd on the tap's 64 bytes,
/// whose weight vectors keep one byte of each dword (3 of 4 products are zeros; dv_byte); or per pair of taps
/// vpunpcklbw and vpunpckhbw and 4 vpdpbusd whose weights keep one channel's 2 taps per dword (half the products are
/// zeros). The +128 of the inputs and the zero point come out through the bias: bias − zp·Σw − 128·Σw. Chunks start
/// at channel (64·i) mod C, so the weight vectors and epilogue rows are laid out per call for each of the
/// C / gcd(64, C) phases.
PARLA_DW_VNNI_INLINE void depthwise_vnni(const parla_qs8_depthwise *d, const parla_qs8_requant *rq,
                                         ptrdiff_t row_begin, ptrdiff_t row_end, const int K) {
    const int taps = K * K, pairs = (taps + 1) / 2;
    const ptrdiff_t C = d->channels, ih = d->input_height, iw = d->input_width, ow = d->output_width;
    const ptrdiff_t phases = dw_vnni_phases(C);
    const ptrdiff_t wrow = C + 64;  // per tap: weights of channels n mod C for n < C + 64
    // A padded window row, with a vector's slack: stride 1 pixels −pad_left ... ow + K − 2 − pad_left; stride 2 the
    // even and the odd ones of −pad_left ... 2·ow + K − 3 − pad_left in two planes.
    const ptrdiff_t S = d->stride_x, plane = (S == 1 ? ow + K - 1 : ow + (K - 1) / 2) * C + 64, width = S * plane;
    const ptrdiff_t copied_end = S * (plane - 64) / C - d->pad_left;  // the image pixels in a window row
    const ptrdiff_t copied = iw < copied_end ? iw : copied_end;
    // One allocation: the weight vectors, the table (64-byte aligned), the dense weights, the window rows.
    const int paired = phases > 1 || K != 3;
    const ptrdiff_t vectors = paired ? 4 * pairs : 36;
    const size_t vector_bytes = (size_t)(vectors * phases) * 64, table_bytes = (size_t)(64 * DV_ROWS * phases) * sizeof(int32_t);
    void *block = NULL;
    if (posix_memalign(&block, 64, vector_bytes + table_bytes + (size_t)(2 * pairs * wrow + (K + 1) * width))) abort();
    __m512i *wv = block;  // a few KiB; allocation failure here is not recoverable
    int32_t *table = (int32_t *)(void *)((char *)block + vector_bytes);
    int8_t *wt = (int8_t *)(table + 64 * DV_ROWS * phases);
    uint8_t *ring = (uint8_t *)(wt + 2 * pairs * wrow), *zero_row = ring + K * width;
    const uint8_t zp = (uint8_t)((int8_t)d->input_zero_point ^ 0x80);
    memset(zero_row, zp, (size_t)width);
    // Dense weights per tap: vpermw picks a tap's 16 channels in order out of a tap pair's 32 int16 (tapPairs: lane
    // 16·((c%8)/4) + 8·(c/8) + 2·(c%4) + tap%2 holds channel c), vpmovwb; then channels n mod C up to C + 64.
    static const int16_t pick[32] = {0, 2, 4, 6, 16, 18, 20, 22, 8, 10, 12, 14, 24, 26, 28, 30};
    const __m512i pick_even = _mm512_loadu_si512(pick), pick_odd = _mm512_add_epi16(pick_even, _mm512_set1_epi16(1));
    for (ptrdiff_t c = 0; c < C; c += 16) {
        for (int t = 0; t < taps; t++) {
            const __m512i pair = _mm512_loadu_si512(d->weights + (c / 16) * pairs * 32 + (t / 2) * 32);
            const __m512i tap = _mm512_permutexvar_epi16(t % 2 ? pick_odd : pick_even, pair);
            _mm_storeu_si128((__m128i *)(void *)(wt + t * wrow + c), _mm256_castsi256_si128(_mm512_cvtepi16_epi8(tap)));
        }
    }
    for (int t = 0; t < taps; t++) {
        for (ptrdiff_t n = C; n < wrow; n++) wt[t * wrow + n] = wt[t * wrow + n - C];
    }
    memset(wt + taps * wrow, 0, (size_t)wrow);  // the tap after the last
    const ptrdiff_t rs = rq->stride;
    const __mmask64 even_pair = 0x3333333333333333ull;
    for (ptrdiff_t p = 0; p < phases; p++) {
        const ptrdiff_t phase = p * 64 % C;
        for (int t = 0; t < 9 && !paired; t++) {
            for (int k = 0; k < 4; k++) {
                wv[4 * t + k] = _mm512_maskz_loadu_epi8(0x1111111111111111ull << k, wt + t * wrow);
            }
        }
        for (int q = 0; q < pairs && paired; q++) {
            const __m512i a = _mm512_loadu_si512(wt + 2 * q * wrow + phase);
            const __m512i b = _mm512_loadu_si512(wt + (2 * q + 1) * wrow + phase);
            const __m512i lo = _mm512_unpacklo_epi8(a, b), hi = _mm512_unpackhi_epi8(a, b);
            __m512i *v = wv + vectors * p + 4 * q;
            v[0] = _mm512_maskz_mov_epi8(even_pair, lo);
            v[1] = _mm512_maskz_mov_epi8(~even_pair, lo);
            v[2] = _mm512_maskz_mov_epi8(even_pair, hi);
            v[3] = _mm512_maskz_mov_epi8(~even_pair, hi);
        }
        for (int k = 0; k < 4; k++) {
            for (int lane = 0; lane < 16; lane++) {
                ptrdiff_t c = phase + dv_byte(paired, k, lane), c1 = phase + dv_byte(paired, k, lane | 1);  // c1: DV_MO
                while (c >= C) c -= C;
                while (c1 >= C) c1 -= C;
                int32_t *at = table + 64 * DV_ROWS * p + 16 * k + lane;
                const uint32_t sums = (uint32_t)d->weight_sums[c];
                at[64 * DV_BIAS] = (int32_t)((uint32_t)d->bias[c] - (uint32_t)d->input_zero_point * sums - 128u * sums);
                at[64 * DV_MO] = rq->table[c1];
                for (int branch = 0; branch < 2; branch++) {
                    const int b = rq->has_negative ? branch : 0;
                    const int32_t right = rq->table[(3 * b + 2) * rs + c];
                    at[64 * (branch ? DV_NM : DV_M)] = rq->table[3 * b * rs + c];
                    at[64 * (branch ? DV_NRIGHT : DV_RIGHT)] = right;
                    at[64 * (branch ? DV_NROUND : DV_ROUND)] = (int32_t)(1u << (right - 1));
                }
            }
        }
    }
    ptrdiff_t held[5] = {-1, -1, -1, -1, -1};  // the input row in each ring slot
    // Stride 2 with C = 8, 16, 32 or 64: the qwords of the even and of the odd pixels of 128 bytes.
    const int split = S == 2 && C <= 64 && 64 % C == 0 && C % 8 == 0;
    int64_t picks[16];
    for (int i = 0; i < 8; i++) {
        const ptrdiff_t q = C / 8 > 0 ? C / 8 : 1;
        picks[i] = 2 * (i / q) * q + i % q;
        picks[8 + i] = picks[i] + q;
    }
    const __m512i even_qwords = _mm512_loadu_si512(picks), odd_qwords = _mm512_loadu_si512(picks + 8);
    const ptrdiff_t left = d->pad_left * C, n = copied * C;
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    for (ptrdiff_t oy = row_begin; oy < row_end; oy++) {
        const uint8_t *tap[25];
        for (ptrdiff_t ky = 0; ky < K; ky++) {
            const ptrdiff_t iy = oy * S - d->pad_top + ky;
            const uint8_t *row = zero_row;
            if (iy >= 0 && iy < ih) {
                uint8_t *slot = ring + (iy % K) * width;
                row = slot;
                if (held[iy % K] != iy) {
                    held[iy % K] = iy;
                    const int8_t *in = d->input + iy * iw * C;
                    if (S == 1) {
                        memset(slot, zp, (size_t)left);
                        for (ptrdiff_t i = 0; i < n; i += 64) {
                            const __mmask64 mask = n - i >= 64 ? ~0ull : ~0ull >> (64 - (n - i));
                            _mm512_mask_storeu_epi8(slot + left + i, mask,
                                                    _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, in + i), flip));
                        }
                        memset(slot + left + n, zp, (size_t)(width - left - n));
                    } else {
                        // Padded pixel p = ix + pad_left to plane p % 2 at pixel p / 2: even image pixels 2m to
                        // `even` + m·C, odd ones to `odd` + m·C.
                        const ptrdiff_t pl = d->pad_left;
                        for (ptrdiff_t p = 0; p < 2 * (plane - 64) / C; p++) {  // the padding pixels
                            if (p == pl) p += copied;
                            if (p < 2 * (plane - 64) / C) memset(slot + (p & 1) * plane + (p >> 1) * C, zp, (size_t)C);
                        }
                        uint8_t *even = slot + (pl & 1) * plane + (pl >> 1) * C;
                        uint8_t *odd = slot + ((pl + 1) & 1) * plane + ((pl + 1) >> 1) * C;
                        ptrdiff_t ix = 0;
                        if (split) {
                            // 128 bytes (128 / C pixels) per step: vpermt2q picks the even and the odd pixels' qwords.
                            for (; ix < copied; ix += 128 / C) {
                                const ptrdiff_t bytes = (copied - ix) * C, m = ix / 2 * C;
                                const __mmask64 m0 = bytes >= 64 ? ~0ull : ~0ull >> (64 - bytes);
                                const __mmask64 m1 = bytes >= 128 ? ~0ull : bytes <= 64 ? 0 : ~0ull >> (128 - bytes);
                                const __m512i a = _mm512_maskz_loadu_epi8(m0, in + ix * C);
                                const __m512i b = _mm512_maskz_loadu_epi8(m1, in + ix * C + 64);
                                const ptrdiff_t ne = (copied - ix + 1) / 2 * C, no = (copied - ix) / 2 * C;  // bytes
                                _mm512_mask_storeu_epi8(even + m, ne >= 64 ? ~0ull : ~0ull >> (64 - ne),
                                                        _mm512_xor_si512(_mm512_permutex2var_epi64(a, even_qwords, b), flip));
                                if (no > 0) {
                                    _mm512_mask_storeu_epi8(odd + m, no >= 64 ? ~0ull : ~0ull >> (64 - no),
                                                            _mm512_xor_si512(_mm512_permutex2var_epi64(a, odd_qwords, b), flip));
                                }
                            }
                        }
                        for (; ix < copied; ix++) {
                            uint8_t *to = (ix & 1 ? odd : even) + ix / 2 * C;
                            for (ptrdiff_t i = 0; i < C; i += 64) {
                                const __mmask64 mask = C - i >= 64 ? ~0ull : ~0ull >> (64 - (C - i));
                                _mm512_mask_storeu_epi8(to + i, mask,
                                                        _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, in + ix * C + i), flip));
                            }
                        }
                    }
                }
            }
            for (ptrdiff_t kx = 0; kx < K; kx++) {
                tap[ky * K + kx] = S == 1 ? row + kx * C : row + (kx & 1) * plane + (kx >> 1) * C;
            }
        }
        int8_t *out = d->output + oy * ow * C;
        if (K == 5) {
            dv_row(tap, out, ow * C, wv, phases, table, rq, 5, 1);
        } else if (paired) {
            dv_row(tap, out, ow * C, wv, phases, table, rq, 3, 1);
        } else {
            dv_row(tap, out, ow * C, wv, phases, table, rq, 3, 0);
        }
    }
    free(block);
}

PARLA_AVX2 void parla_qs8_depthwise_avx2(const parla_qs8_depthwise *d, const parla_qs8_requant *rq, ptrdiff_t row_begin,
                                         ptrdiff_t row_end) {
    depthwise(d, rq, row_begin, row_end);
}

/// The same body with 32 ymm registers (the 3×3 row path keeps its 10 weight vectors in registers); 3×3 and 5×5
/// stride 1 with vpdpbusd (depthwise_vnni) where dw_vnni_fits.
__attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni"))) void parla_qs8_depthwise_avx512(const parla_qs8_depthwise *d, const parla_qs8_requant *rq,
                                               ptrdiff_t row_begin, ptrdiff_t row_end) {
    if (dw_vnni_fits(d, rq)) {
        if (d->kernel_height == 5) {
            depthwise_vnni(d, rq, row_begin, row_end, 5);
        } else {
            depthwise_vnni(d, rq, row_begin, row_end, 3);
        }
    } else {
        depthwise(d, rq, row_begin, row_end);
    }
}

#endif
