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

PARLA_AVX2 void parla_qs8_depthwise_avx2(const parla_qs8_depthwise *d, const parla_qs8_requant *rq, ptrdiff_t row_begin,
                                         ptrdiff_t row_end) {
    depthwise(d, rq, row_begin, row_end);
}

/// The same body with 32 ymm registers: the 3×3 row path keeps its 10 weight vectors in registers.
PARLA_AVX512VL void parla_qs8_depthwise_avx512(const parla_qs8_depthwise *d, const parla_qs8_requant *rq,
                                               ptrdiff_t row_begin, ptrdiff_t row_end) {
    depthwise(d, rq, row_begin, row_end);
}

#endif
