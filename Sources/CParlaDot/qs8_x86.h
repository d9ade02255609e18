// Helpers shared by the AVX2 int8 kernels (CParlaQS8x86*.c): load/store, the 8-lane fixed-point
// MultiplyByQuantizedMultiplier and the requantization epilogue. Private to CParlaDot; every function carries
// __attribute__((target("avx2"))) so the files build for baseline x86-64 and Swift calls the kernels only when
// parla_qs8_cpu_avx2() says the CPU has AVX2.
#ifndef PARLA_QS8_X86_H
#define PARLA_QS8_X86_H

#include "CParlaQS8.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define PARLA_AVX2 __attribute__((target("avx2")))
#define PARLA_AVX2_INLINE static inline __attribute__((target("avx2"), always_inline))
/// The AVX-512 copies of the depthwise and elementwise kernels (`Int8KernelPath.avx512VNNI`): the same bodies
/// compiled with AVX-512 VL, whose EVEX encoding has 32 ymm registers (and mask registers).
#define PARLA_AVX512VL __attribute__((target("avx2,avx512f,avx512bw,avx512vl")))

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

#endif
#endif
