// The AVX2 int8 kernels (see CParlaQS8.h and docs/int8-kernels.md). Every function that uses AVX2 carries
// __attribute__((target("avx2"))) so the file builds for baseline x86-64 and the Swift side calls these only
// when parla_qs8_cpu_avx2() says the CPU has AVX2.
#include "CParlaQS8.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#include <string.h>

#define PARLA_AVX2 __attribute__((target("avx2")))
#define PARLA_AVX2_INLINE static inline __attribute__((target("avx2"), always_inline))

static uint64_t parla_xgetbv0(void) {
    uint32_t eax, edx;
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));  // xgetbv
    return ((uint64_t)edx << 32) | eax;
}

int parla_qs8_cpu_avx2(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27)) || !(c & (1u << 28))) return 0;  // OSXSAVE, AVX
    if ((parla_xgetbv0() & 6) != 6) return 0;              // the OS saves XMM and YMM state
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & (1u << 5)) != 0;                            // AVX2
}

PARLA_AVX2_INLINE __m256i load8(const int32_t *p) { return _mm256_loadu_si256((const __m256i *)(const void *)p); }

PARLA_AVX2_INLINE int32_t load32(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/// Rounding divide by 2^right (0...31 per lane), ties away from zero.
PARLA_AVX2_INLINE __m256i rdbpot8(__m256i h, __m256i right) {
    const __m256i one = _mm256_set1_epi32(1);
    __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
    __m256i threshold = _mm256_sub_epi32(_mm256_srai_epi32(mask, 1), _mm256_srai_epi32(h, 31));
    __m256i above = _mm256_cmpgt_epi32(_mm256_and_si256(h, mask), threshold);
    return _mm256_sub_epi32(_mm256_srav_epi32(h, right), above);
}

/// TFLite MultiplyByQuantizedMultiplier in 8 lanes, bit-identical to the scalar form:
/// x << left; SRDHM(x, m) = bits 31...62 of x·m + 2^30 (the sign-dependent nudge and C's truncating division
/// come to that for both signs), Int32.min² → Int32.max; then the rounding divide by 2^right
/// (floor + 1 where the remainder exceeds half, half counted away from zero).
PARLA_AVX2_INLINE __m256i mbqm8(__m256i x, __m256i m, __m256i left, __m256i right) {
    x = _mm256_sllv_epi32(x, left);
    const __m256i round = _mm256_set1_epi64x((int64_t)1 << 30);
    __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, m), round);
    __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32)), round);
    __m256i h = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
    const __m256i minimum = _mm256_set1_epi32(INT32_MIN);
    h = _mm256_add_epi32(h, _mm256_and_si256(_mm256_cmpeq_epi32(x, minimum), _mm256_cmpeq_epi32(m, minimum)));
    return rdbpot8(h, right);
}

PARLA_AVX2 void parla_qs8_mbqm_avx2(const int32_t *x, const int32_t *multiplier, const int32_t *shift, int32_t *out,
                                    ptrdiff_t count) {
    const __m256i zero = _mm256_setzero_si256();
    for (ptrdiff_t i = 0; i < count; i += 8) {
        const ptrdiff_t lanes = count - i < 8 ? count - i : 8;
        int32_t tx[8] = {0}, tm[8] = {0}, ts[8] = {0}, to[8];
        memcpy(tx, x + i, (size_t)lanes * 4);
        memcpy(tm, multiplier + i, (size_t)lanes * 4);
        memcpy(ts, shift + i, (size_t)lanes * 4);
        __m256i s = load8(ts);
        __m256i r = mbqm8(load8(tx), load8(tm), _mm256_max_epi32(s, zero), _mm256_max_epi32(_mm256_sub_epi32(zero, s), zero));
        _mm256_storeu_si256((__m256i *)(void *)to, r);
        memcpy(out + i, to, (size_t)lanes * 4);
    }
}

/// mbqm8 without the left shift and the saturation fix, for multipliers that are never INT32_MIN and shifts <= 0
/// (then SRDHM cannot saturate). Bit-identical to mbqm8 under those conditions.
PARLA_AVX2_INLINE __m256i mbqm8_right(__m256i x, __m256i m, __m256i right) {
    const __m256i round = _mm256_set1_epi64x((int64_t)1 << 30);
    __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, m), round);
    __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32)), round);
    __m256i h = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
    return rdbpot8(h, right);
}

/// SRDHM(v << 20, m) for 8 lanes v in -256...256 with 32-bit products only, `high` = m >> 11, `low` = m & 2047
/// (`FixedPoint.shiftedInputHighMul`): v·high + ((v·low + 2^10) >> 11).
PARLA_AVX2_INLINE __m256i shifted_input_high_mul8(__m256i v, __m256i high, __m256i low) {
    __m256i rest = _mm256_srai_epi32(_mm256_add_epi32(_mm256_mullo_epi32(v, low), _mm256_set1_epi32(1 << 10)), 11);
    return _mm256_add_epi32(_mm256_mullo_epi32(v, high), rest);
}

/// The epilogue's constant vectors.
typedef struct {
    __m256i zero_point, minimum, maximum;
    const int32_t *table;
    ptrdiff_t stride;
    int negative, simple;
} rq_vectors;

PARLA_AVX2_INLINE rq_vectors rq_load(const parla_qs8_requant *rq) {
    rq_vectors v;
    v.zero_point = _mm256_set1_epi32(rq->zero_point);
    v.minimum = _mm256_set1_epi32(rq->activation_min);
    v.maximum = _mm256_set1_epi32(rq->activation_max);
    v.table = rq->table;
    v.stride = rq->stride;
    v.negative = rq->has_negative;
    v.simple = rq->simple;
    return v;
}

/// Requantizes 8 accumulators of channels c...c+7 to int8 values held in int32 lanes.
PARLA_AVX2_INLINE __m256i requantize8(__m256i v, const rq_vectors *r, ptrdiff_t c) {
    const int32_t *t = r->table + c;
    __m256i q;
    if (r->simple) {
        __m256i m = load8(t), right = load8(t + 2 * r->stride);
        if (r->negative) {
            __m256i negative = _mm256_srai_epi32(v, 31);
            m = _mm256_blendv_epi8(m, load8(t + 3 * r->stride), negative);
            right = _mm256_blendv_epi8(right, load8(t + 5 * r->stride), negative);
        }
        q = mbqm8_right(v, m, right);
    } else {
        __m256i m = load8(t), left = load8(t + r->stride), right = load8(t + 2 * r->stride);
        if (r->negative) {
            __m256i negative = _mm256_srai_epi32(v, 31);
            m = _mm256_blendv_epi8(m, load8(t + 3 * r->stride), negative);
            left = _mm256_blendv_epi8(left, load8(t + 4 * r->stride), negative);
            right = _mm256_blendv_epi8(right, load8(t + 5 * r->stride), negative);
        }
        q = mbqm8(v, m, left, right);
    }
    q = _mm256_add_epi32(q, r->zero_point);
    return _mm256_min_epi32(_mm256_max_epi32(q, r->minimum), r->maximum);
}

/// Stores `lanes` (1...8) int32 lanes already inside int8 as bytes.
PARLA_AVX2_INLINE void store8(int8_t *p, __m256i q, ptrdiff_t lanes) {
    __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
    __m128i b = _mm_packs_epi16(w, w);
    if (lanes >= 8) {
        _mm_storel_epi64((__m128i *)(void *)p, b);
    } else {
        int8_t tmp[16];
        _mm_storeu_si128((__m128i *)(void *)tmp, b);
        memcpy(p, tmp, (size_t)lanes);
    }
}

// MARK: GEMM

/// Stores the requantized 4 pixels x 16 channels of `acc` (pixel-major pairs) for blocks c0 and c0 + 8.
PARLA_AVX2_INLINE void store_tile16(const __m256i acc[8], const int32_t *bias, const rq_vectors *r, int8_t *out,
                                    ptrdiff_t out_channels, ptrdiff_t count, ptrdiff_t c0) {
    const ptrdiff_t c1 = c0 + 8;
    __m256i b0 = load8(bias + c0), b1 = load8(bias + c1);
    ptrdiff_t lanes1 = out_channels - c1 < 8 ? out_channels - c1 : 8;
    for (ptrdiff_t i = 0; i < count; i++) {
        int8_t *o = out + i * out_channels;
        store8(o + c0, requantize8(_mm256_add_epi32(acc[2 * i], b0), r, c0), 8);
        store8(o + c1, requantize8(_mm256_add_epi32(acc[2 * i + 1], b1), r, c1), lanes1);
    }
}

PARLA_AVX2_INLINE void store_tile8(const __m256i acc[4], const int32_t *bias, const rq_vectors *r, int8_t *out,
                                   ptrdiff_t out_channels, ptrdiff_t count, ptrdiff_t c0) {
    __m256i b0 = load8(bias + c0);
    ptrdiff_t lanes = out_channels - c0 < 8 ? out_channels - c0 : 8;
    for (ptrdiff_t i = 0; i < count; i++) {
        store8(out + i * out_channels + c0, requantize8(_mm256_add_epi32(acc[i], b0), r, c0), lanes);
    }
}

PARLA_AVX2 void parla_qs8_gemm4_avx2(const int8_t *const *rows, ptrdiff_t k, int16_t *scratch, const int16_t *weights,
                                     ptrdiff_t blocks, const int32_t *bias, const parla_qs8_requant *rq, int8_t *out,
                                     ptrdiff_t out_channels, ptrdiff_t count) {
    const ptrdiff_t kp = (k + 3) / 4 * 4;
    for (int p = 0; p < 4; p++) {
        const int8_t *s = rows[p];
        int16_t *d = scratch + p * kp;
        ptrdiff_t j = 0;
        for (; j + 16 <= k; j += 16) {
            _mm256_storeu_si256((__m256i *)(void *)(d + j), _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(s + j))));
        }
        for (; j < k; j++) d[j] = s[j];
        for (; j < kp; j++) d[j] = 0;
    }
    const int16_t *r0 = scratch, *r1 = scratch + kp, *r2 = scratch + 2 * kp, *r3 = scratch + 3 * kp;
    rq_vectors r = rq_load(rq);
    ptrdiff_t b = 0;
    // Two blocks (16 channels) per pass: 2 weight loads and 4 broadcasts feed 8 vpmaddwd (4 pixels x 16 channels
    // x 2 taps); 8 accumulators + 2 weights + 1 input fit the 16 YMM registers.
    for (; b + 2 <= blocks; b += 2) {
        const int16_t *w0 = weights + b * kp * 8, *w1 = w0 + kp * 8;
        __m256i a00 = _mm256_setzero_si256(), a01 = a00, a10 = a00, a11 = a00;
        __m256i a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (ptrdiff_t j = 0; j < kp; j += 2) {
            __m256i u = _mm256_loadu_si256((const __m256i *)(const void *)(w0 + j * 8));
            __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(w1 + j * 8));
            __m256i x = _mm256_set1_epi32(load32(r0 + j));
            a00 = _mm256_add_epi32(a00, _mm256_madd_epi16(u, x));
            a01 = _mm256_add_epi32(a01, _mm256_madd_epi16(v, x));
            x = _mm256_set1_epi32(load32(r1 + j));
            a10 = _mm256_add_epi32(a10, _mm256_madd_epi16(u, x));
            a11 = _mm256_add_epi32(a11, _mm256_madd_epi16(v, x));
            x = _mm256_set1_epi32(load32(r2 + j));
            a20 = _mm256_add_epi32(a20, _mm256_madd_epi16(u, x));
            a21 = _mm256_add_epi32(a21, _mm256_madd_epi16(v, x));
            x = _mm256_set1_epi32(load32(r3 + j));
            a30 = _mm256_add_epi32(a30, _mm256_madd_epi16(u, x));
            a31 = _mm256_add_epi32(a31, _mm256_madd_epi16(v, x));
        }
        __m256i acc[8] = {a00, a01, a10, a11, a20, a21, a30, a31};
        store_tile16(acc, bias, &r, out, out_channels, count, b * 8);
    }
    for (; b < blocks; b++) {
        const int16_t *w = weights + b * kp * 8;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (ptrdiff_t j = 0; j < kp; j += 2) {
            __m256i u = _mm256_loadu_si256((const __m256i *)(const void *)(w + j * 8));
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(u, _mm256_set1_epi32(load32(r0 + j))));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(u, _mm256_set1_epi32(load32(r1 + j))));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(u, _mm256_set1_epi32(load32(r2 + j))));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(u, _mm256_set1_epi32(load32(r3 + j))));
        }
        __m256i acc[4] = {a0, a1, a2, a3};
        store_tile8(acc, bias, &r, out, out_channels, count, b * 8);
    }
}

int parla_qs8_cpu_avxvnni(void) {
    if (!parla_qs8_cpu_avx2()) return 0;
    unsigned a, b, c, d;
    __cpuid_count(7, 1, a, b, c, d);
    return (a & (1u << 4)) != 0;  // AVX-VNNI
}

#define PARLA_VNNI __attribute__((target("avx2,avxvnni")))

/// The last partial quad of taps (k - j < 4 values) of a row made unsigned (x + 128) and broadcast, read byte by
/// byte (zero padded: its weights are 0) so no row is read past its k values.
static inline __attribute__((target("avx2,avxvnni"), always_inline)) __m256i quad(const int8_t *row, ptrdiff_t j, ptrdiff_t k) {
    int32_t v = 0;
    memcpy(&v, row + j, (size_t)(k - j));
    return _mm256_xor_si256(_mm256_set1_epi32(v), _mm256_set1_epi8((char)0x80));
}

/// One step of the 4 x 16 VNNI tile: 4 taps of each of the 4 pixels (already unsigned and broadcast) times the
/// 8-channel x 4-tap weight blocks u and v.
#define PARLA_VNNI_STEP16(x0, x1, x2, x3, u, v)                                                                     \
    a00 = _mm256_dpbusd_avx_epi32(a00, x0, u); a01 = _mm256_dpbusd_avx_epi32(a01, x0, v);                          \
    a10 = _mm256_dpbusd_avx_epi32(a10, x1, u); a11 = _mm256_dpbusd_avx_epi32(a11, x1, v);                          \
    a20 = _mm256_dpbusd_avx_epi32(a20, x2, u); a21 = _mm256_dpbusd_avx_epi32(a21, x2, v);                          \
    a30 = _mm256_dpbusd_avx_epi32(a30, x3, u); a31 = _mm256_dpbusd_avx_epi32(a31, x3, v);
#define PARLA_VNNI_STEP8(x0, x1, x2, x3, u)                                                                         \
    a0 = _mm256_dpbusd_avx_epi32(a0, x0, u); a1 = _mm256_dpbusd_avx_epi32(a1, x1, u);                              \
    a2 = _mm256_dpbusd_avx_epi32(a2, x2, u); a3 = _mm256_dpbusd_avx_epi32(a3, x3, u);
#define PARLA_LOAD256(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define PARLA_UNSIGNED_QUAD(row, j) _mm256_xor_si256(_mm256_set1_epi32(load32((row) + (j))), flip)

PARLA_VNNI void parla_qs8_gemm4_avxvnni(const int8_t *const *rows, ptrdiff_t k, const int8_t *weights, ptrdiff_t blocks,
                                        const int32_t *bias, const parla_qs8_requant *rq, int8_t *out,
                                        ptrdiff_t out_channels, ptrdiff_t count) {
    const ptrdiff_t kp = (k + 3) / 4 * 4, full = k / 4 * 4;
    const int8_t *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    rq_vectors r = rq_load(rq);
    ptrdiff_t b = 0;
    // 4 pixels x 16 channels x 4 taps per step: 2 weight loads, 4 broadcasts, 8 vpdpbusd. The last partial quad of
    // taps (k not a multiple of 4) is read byte by byte after the loop.
    for (; b + 2 <= blocks; b += 2) {
        const int8_t *w0 = weights + b * kp * 8, *w1 = w0 + kp * 8;
        __m256i a00 = _mm256_setzero_si256(), a01 = a00, a10 = a00, a11 = a00;
        __m256i a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (ptrdiff_t j = 0; j < full; j += 4) {
            __m256i u = PARLA_LOAD256(w0 + j * 8), v = PARLA_LOAD256(w1 + j * 8);
            __m256i x0 = PARLA_UNSIGNED_QUAD(r0, j), x1 = PARLA_UNSIGNED_QUAD(r1, j);
            __m256i x2 = PARLA_UNSIGNED_QUAD(r2, j), x3 = PARLA_UNSIGNED_QUAD(r3, j);
            PARLA_VNNI_STEP16(x0, x1, x2, x3, u, v)
        }
        if (full < k) {
            __m256i u = PARLA_LOAD256(w0 + full * 8), v = PARLA_LOAD256(w1 + full * 8);
            __m256i x0 = quad(r0, full, k), x1 = quad(r1, full, k), x2 = quad(r2, full, k), x3 = quad(r3, full, k);
            PARLA_VNNI_STEP16(x0, x1, x2, x3, u, v)
        }
        __m256i acc[8] = {a00, a01, a10, a11, a20, a21, a30, a31};
        store_tile16(acc, bias, &r, out, out_channels, count, b * 8);
    }
    for (; b < blocks; b++) {
        const int8_t *w = weights + b * kp * 8;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (ptrdiff_t j = 0; j < full; j += 4) {
            __m256i u = PARLA_LOAD256(w + j * 8);
            __m256i x0 = PARLA_UNSIGNED_QUAD(r0, j), x1 = PARLA_UNSIGNED_QUAD(r1, j);
            __m256i x2 = PARLA_UNSIGNED_QUAD(r2, j), x3 = PARLA_UNSIGNED_QUAD(r3, j);
            PARLA_VNNI_STEP8(x0, x1, x2, x3, u)
        }
        if (full < k) {
            __m256i u = PARLA_LOAD256(w + full * 8);
            __m256i x0 = quad(r0, full, k), x1 = quad(r1, full, k), x2 = quad(r2, full, k), x3 = quad(r3, full, k);
            PARLA_VNNI_STEP8(x0, x1, x2, x3, u)
        }
        __m256i acc[4] = {a0, a1, a2, a3};
        store_tile8(acc, bias, &r, out, out_channels, count, b * 8);
    }
}
#undef PARLA_VNNI_STEP16
#undef PARLA_VNNI_STEP8
#undef PARLA_LOAD256
#undef PARLA_UNSIGNED_QUAD

// MARK: Depthwise

/// Sums over tap pairs of 16 channels at offset c: lo gets channels 0-3 and 8-11, hi 4-7 and 12-15.
PARLA_AVX2_INLINE void depthwise_pairs(const int8_t *const *ptr, ptrdiff_t c, ptrdiff_t pairs, const int16_t *w,
                                       __m256i *lo_out, __m256i *hi_out) {
    __m256i lo = _mm256_setzero_si256(), hi = lo;
    for (ptrdiff_t p = 0; p < pairs; p++) {
        __m256i x0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(ptr[2 * p] + c)));
        __m256i x1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(ptr[2 * p + 1] + c)));
        lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1),
                                                     _mm256_loadu_si256((const __m256i *)(const void *)(w + p * 32))));
        hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1),
                                                     _mm256_loadu_si256((const __m256i *)(const void *)(w + p * 32 + 16))));
    }
    *lo_out = lo;
    *hi_out = hi;
}

/// Per output pixel the kernel taps' input pointers are gathered first (taps outside the image point at a row of
/// zero points, which adds (zp - zp)·w = 0 like the reference's clipping), so the channel loop is the same for
/// border and interior pixels. The zero point is folded into the bias (bias - zp·Σw); per block of 16 channels
/// and pair of taps the two int8 vectors are widened, interleaved (vpunpcklwd/hwd) and multiplied by the
/// interleaved weights with vpmaddwd: 32 multiply-adds in 8 instructions.
PARLA_AVX2 void parla_qs8_depthwise_avx2(const parla_qs8_depthwise *d, const parla_qs8_requant *rq, ptrdiff_t row_begin,
                                         ptrdiff_t row_end) {
    const ptrdiff_t C = d->channels, cp = d->padded_channels, kh = d->kernel_height, kw = d->kernel_width;
    const ptrdiff_t ih = d->input_height, iw = d->input_width, ow = d->output_width;
    const ptrdiff_t taps = kh * kw, pairs = (taps + 1) / 2;
    const int8_t *const end = d->input + ih * iw * C;
    int8_t zero_row[cp + 32];
    memset(zero_row, (int)(int8_t)d->input_zero_point, sizeof zero_row);
    int32_t bias[cp];
    for (ptrdiff_t c = 0; c < cp; c++) bias[c] = (int32_t)((uint32_t)d->bias[c] - (uint32_t)d->input_zero_point * (uint32_t)d->weight_sums[c]);
    const int8_t *ptr[2 * pairs];
    ptrdiff_t offsets[taps];  // of each tap from the window's corner, for windows inside the image
    for (ptrdiff_t ky = 0; ky < kh; ky++) {
        for (ptrdiff_t kx = 0; kx < kw; kx++) offsets[ky * kw + kx] = (ky * iw + kx) * C;
    }
    int8_t tail[2 * pairs][16];
    rq_vectors r = rq_load(rq);
    for (ptrdiff_t oy = row_begin; oy < row_end; oy++) {
        const ptrdiff_t iy0 = oy * d->stride_y - d->pad_top;
        for (ptrdiff_t ox = 0; ox < ow; ox++) {
            const ptrdiff_t ix0 = ox * d->stride_x - d->pad_left;
            if (iy0 >= 0 && iy0 + kh <= ih && ix0 >= 0 && ix0 + kw <= iw) {
                const int8_t *base = d->input + (iy0 * iw + ix0) * C;
                for (ptrdiff_t t = 0; t < taps; t++) ptr[t] = base + offsets[t];
            } else {
                for (ptrdiff_t ky = 0, t = 0; ky < kh; ky++) {
                    const ptrdiff_t iy = iy0 + ky;
                    for (ptrdiff_t kx = 0; kx < kw; kx++, t++) {
                        const ptrdiff_t ix = ix0 + kx;
                        ptr[t] = iy >= 0 && iy < ih && ix >= 0 && ix < iw ? d->input + (iy * iw + ix) * C : zero_row;
                    }
                }
            }
            if (taps % 2) ptr[taps] = ptr[taps - 1];  // its weights are 0
            int8_t *out = d->output + (oy * ow + ox) * C;
            for (ptrdiff_t c = 0; c < C; c += 16) {
                const int16_t *w = d->weights + (c / 16) * pairs * 32;
                __m256i lo, hi;
                if (c + 16 <= C) {
                    depthwise_pairs(ptr, c, pairs, w, &lo, &hi);
                } else {
                    // The last partial block: never read past the input (the channels beyond C have zero weights).
                    const int8_t *part[2 * pairs];
                    for (ptrdiff_t t = 0; t < 2 * pairs; t++) {
                        part[t] = ptr[t] + c;
                        if (ptr[t] != zero_row && part[t] + 16 > end) {
                            memcpy(tail[t], part[t], (size_t)(C - c));
                            part[t] = tail[t];
                        }
                    }
                    depthwise_pairs(part, 0, pairs, w, &lo, &hi);
                }
                __m256i a0 = _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x20), load8(bias + c));
                __m256i a1 = _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x31), load8(bias + c + 8));
                const ptrdiff_t left = C - c;
                store8(out + c, requantize8(a0, &r, c), left < 8 ? left : 8);
                if (left > 8) store8(out + c + 8, requantize8(a1, &r, c + 8), left < 16 ? left - 8 : 8);
            }
        }
    }
}

// MARK: ADD

PARLA_AVX2_INLINE __m256i splat_left(int32_t shift) { return _mm256_set1_epi32(shift > 0 ? shift : 0); }
PARLA_AVX2_INLINE __m256i splat_right(int32_t shift) { return _mm256_set1_epi32(shift > 0 ? 0 : -shift); }

/// The ADD loop; `simple` (a literal at each call, so each call is compiled on its own) says no multiplier is
/// INT32_MIN and no output shift is positive. The inputs are scaled with `shifted_input_high_mul8`.
PARLA_AVX2_INLINE void add_loop(const int8_t *a, const int8_t *b, int8_t *out, ptrdiff_t count, const parla_qs8_add *p,
                                const int simple) {
    const __m256i o1 = _mm256_set1_epi32(p->input1_offset), o2 = _mm256_set1_epi32(p->input2_offset);
    const __m256i s1 = splat_right(p->input1_shift), s2 = splat_right(p->input2_shift);
    const __m256i mo = _mm256_set1_epi32(p->output_multiplier), lo = splat_left(p->output_shift), so = splat_right(p->output_shift);
    const __m256i oo = _mm256_set1_epi32(p->output_offset);
    const __m256i minimum = _mm256_set1_epi32(p->activation_min), maximum = _mm256_set1_epi32(p->activation_max);
    const __m256i zero = _mm256_setzero_si256();
    const __m256i h1 = _mm256_set1_epi32(p->input1_multiplier >> 11), w1 = _mm256_set1_epi32(p->input1_multiplier & 2047);
    const __m256i h2 = _mm256_set1_epi32(p->input2_multiplier >> 11), w2 = _mm256_set1_epi32(p->input2_multiplier & 2047);
#define PARLA_MBQM(x, m, l, r) (simple ? mbqm8_right(x, m, r) : mbqm8(x, m, l, r))
    // One input scaled to the common scale: (x + offset) << 20 through MBQM, 32-bit products only.
#define PARLA_ADD_INPUT(x, o, s, h, w) rdbpot8(shifted_input_high_mul8(_mm256_add_epi32(_mm256_cvtepi8_epi32(x), o), h, w), s)
    // Sums of 8 values.
#define PARLA_ADD_SUM(xa, xb) _mm256_add_epi32(PARLA_ADD_INPUT(xa, o1, s1, h1, w1), PARLA_ADD_INPUT(xb, o2, s2, h2, w2))
    if (!p->negative_multipliers) {
        ptrdiff_t i = 0;
        for (; i < count; i += 8) {
            const ptrdiff_t lanes = count - i < 8 ? count - i : 8;
            __m128i xa, xb;
            if (lanes == 8) {
                xa = _mm_loadl_epi64((const __m128i *)(const void *)(a + i));
                xb = _mm_loadl_epi64((const __m128i *)(const void *)(b + i));
            } else {
                int8_t ta[8] = {0}, tb[8] = {0};
                memcpy(ta, a + i, (size_t)lanes);
                memcpy(tb, b + i, (size_t)lanes);
                xa = _mm_loadl_epi64((const __m128i *)(const void *)ta);
                xb = _mm_loadl_epi64((const __m128i *)(const void *)tb);
            }
            __m256i q = _mm256_add_epi32(PARLA_MBQM(PARLA_ADD_SUM(xa, xb), mo, lo, so), oo);
            store8(out + i, _mm256_min_epi32(_mm256_max_epi32(q, minimum), maximum), lanes);
        }
        return;
    }
    // Fused PReLU: a negative sum takes its channel's output multiplier and shift.
    const ptrdiff_t C = p->channels;
    for (ptrdiff_t pixel = 0; pixel < count; pixel += C) {
        for (ptrdiff_t c = 0; c < C; c += 8) {
            const ptrdiff_t lanes = C - c < 8 ? C - c : 8;
            __m128i xa, xb;
            __m256i nm, ns;
            if (lanes == 8) {
                xa = _mm_loadl_epi64((const __m128i *)(const void *)(a + pixel + c));
                xb = _mm_loadl_epi64((const __m128i *)(const void *)(b + pixel + c));
                nm = load8(p->negative_multipliers + c);
                ns = load8(p->negative_shifts + c);
            } else {
                int8_t ta[8] = {0}, tb[8] = {0};
                int32_t tm[8] = {0}, ts[8] = {0};
                memcpy(ta, a + pixel + c, (size_t)lanes);
                memcpy(tb, b + pixel + c, (size_t)lanes);
                memcpy(tm, p->negative_multipliers + c, (size_t)lanes * 4);
                memcpy(ts, p->negative_shifts + c, (size_t)lanes * 4);
                xa = _mm_loadl_epi64((const __m128i *)(const void *)ta);
                xb = _mm_loadl_epi64((const __m128i *)(const void *)tb);
                nm = load8(tm);
                ns = load8(ts);
            }
            __m256i v = PARLA_ADD_SUM(xa, xb);
            __m256i negative = _mm256_srai_epi32(v, 31);
            __m256i m = _mm256_blendv_epi8(mo, nm, negative);
            __m256i right = _mm256_blendv_epi8(so, _mm256_max_epi32(_mm256_sub_epi32(zero, ns), zero), negative);
            __m256i left = simple ? zero : _mm256_blendv_epi8(lo, _mm256_max_epi32(ns, zero), negative);
            __m256i q = _mm256_add_epi32(PARLA_MBQM(v, m, left, right), oo);
            store8(out + pixel + c, _mm256_min_epi32(_mm256_max_epi32(q, minimum), maximum), lanes);
        }
    }
#undef PARLA_ADD_SUM
#undef PARLA_ADD_INPUT
#undef PARLA_MBQM
}

PARLA_AVX2 void parla_qs8_add_avx2(const int8_t *a, const int8_t *b, int8_t *out, ptrdiff_t count, const parla_qs8_add *p) {
    int simple = p->output_multiplier != INT32_MIN && p->output_shift <= 0;
    for (ptrdiff_t c = 0; p->negative_multipliers && c < p->channels; c++) {
        if (p->negative_multipliers[c] == INT32_MIN || p->negative_shifts[c] > 0) simple = 0;
    }
    if (simple) {
        add_loop(a, b, out, count, p, 1);
    } else {
        add_loop(a, b, out, count, p, 0);
    }
}

// MARK: PReLU

PARLA_AVX2 void parla_qs8_prelu_avx2(const int8_t *in, int32_t input_zero_point, int8_t *out, ptrdiff_t count,
                                     ptrdiff_t channels, const parla_qs8_requant *rq) {
    rq_vectors r = rq_load(rq);
    const __m256i zp = _mm256_set1_epi32(input_zero_point);
    for (ptrdiff_t pixel = 0; pixel < count; pixel += channels) {
        for (ptrdiff_t c = 0; c < channels; c += 8) {
            const ptrdiff_t lanes = channels - c < 8 ? channels - c : 8;
            __m128i x;
            if (lanes == 8) {
                x = _mm_loadl_epi64((const __m128i *)(const void *)(in + pixel + c));
            } else {
                int8_t t[8] = {0};
                memcpy(t, in + pixel + c, (size_t)lanes);
                x = _mm_loadl_epi64((const __m128i *)(const void *)t);
            }
            __m256i v = _mm256_sub_epi32(_mm256_cvtepi8_epi32(x), zp);
            store8(out + pixel + c, requantize8(v, &r, c), lanes);
        }
    }
}

#endif
