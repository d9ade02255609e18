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
    const __m256i one = _mm256_set1_epi32(1);
    __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
    __m256i threshold = _mm256_sub_epi32(_mm256_srai_epi32(mask, 1), _mm256_srai_epi32(h, 31));
    __m256i above = _mm256_cmpgt_epi32(_mm256_and_si256(h, mask), threshold);
    return _mm256_sub_epi32(_mm256_srav_epi32(h, right), above);
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

/// The epilogue's constant vectors.
typedef struct {
    __m256i zero_point, minimum, maximum;
    const int32_t *table;
    ptrdiff_t stride;
    int negative;
} rq_vectors;

PARLA_AVX2_INLINE rq_vectors rq_load(const parla_qs8_requant *rq) {
    rq_vectors v;
    v.zero_point = _mm256_set1_epi32(rq->zero_point);
    v.minimum = _mm256_set1_epi32(rq->activation_min);
    v.maximum = _mm256_set1_epi32(rq->activation_max);
    v.table = rq->table;
    v.stride = rq->stride;
    v.negative = rq->has_negative;
    return v;
}

/// Requantizes 8 accumulators of channels c...c+7 to int8 values held in int32 lanes.
PARLA_AVX2_INLINE __m256i requantize8(__m256i v, const rq_vectors *r, ptrdiff_t c) {
    const int32_t *t = r->table + c;
    __m256i m = load8(t), left = load8(t + r->stride), right = load8(t + 2 * r->stride);
    if (r->negative) {
        __m256i negative = _mm256_srai_epi32(v, 31);
        m = _mm256_blendv_epi8(m, load8(t + 3 * r->stride), negative);
        left = _mm256_blendv_epi8(left, load8(t + 4 * r->stride), negative);
        right = _mm256_blendv_epi8(right, load8(t + 5 * r->stride), negative);
    }
    __m256i q = _mm256_add_epi32(mbqm8(v, m, left, right), r->zero_point);
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

/// 4 taps of row `r` at tap j made unsigned (x + 128) and broadcast; the last partial quad is read byte by byte
/// (zero padded: its weights are 0) so no row is read past its k values.
static inline __attribute__((target("avx2,avxvnni"), always_inline)) __m256i quad(const int8_t *row, ptrdiff_t j, ptrdiff_t k) {
    int32_t v = 0;
    if (j + 4 <= k) {
        memcpy(&v, row + j, 4);
    } else {
        memcpy(&v, row + j, (size_t)(k - j));
    }
    return _mm256_xor_si256(_mm256_set1_epi32(v), _mm256_set1_epi8((char)0x80));
}

PARLA_VNNI void parla_qs8_gemm4_avxvnni(const int8_t *const *rows, ptrdiff_t k, const int8_t *weights, ptrdiff_t blocks,
                                        const int32_t *bias, const parla_qs8_requant *rq, int8_t *out,
                                        ptrdiff_t out_channels, ptrdiff_t count) {
    const ptrdiff_t kp = (k + 3) / 4 * 4, full = k / 4 * 4;
    const int8_t *r0 = rows[0], *r1 = rows[1], *r2 = rows[2], *r3 = rows[3];
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    rq_vectors r = rq_load(rq);
    ptrdiff_t b = 0;
    // 4 pixels x 16 channels x 4 taps per step: 2 weight loads, 4 broadcasts, 8 vpdpbusd.
    for (; b + 2 <= blocks; b += 2) {
        const int8_t *w0 = weights + b * kp * 8, *w1 = w0 + kp * 8;
        __m256i a00 = _mm256_setzero_si256(), a01 = a00, a10 = a00, a11 = a00;
        __m256i a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (ptrdiff_t j = 0; j < kp; j += 4) {
            __m256i u = _mm256_loadu_si256((const __m256i *)(const void *)(w0 + j * 8));
            __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(w1 + j * 8));
            __m256i x0, x1, x2, x3;
            if (j < full) {
                x0 = _mm256_xor_si256(_mm256_set1_epi32(load32(r0 + j)), flip);
                x1 = _mm256_xor_si256(_mm256_set1_epi32(load32(r1 + j)), flip);
                x2 = _mm256_xor_si256(_mm256_set1_epi32(load32(r2 + j)), flip);
                x3 = _mm256_xor_si256(_mm256_set1_epi32(load32(r3 + j)), flip);
            } else {
                x0 = quad(r0, j, k); x1 = quad(r1, j, k); x2 = quad(r2, j, k); x3 = quad(r3, j, k);
            }
            a00 = _mm256_dpbusd_avx_epi32(a00, x0, u);
            a01 = _mm256_dpbusd_avx_epi32(a01, x0, v);
            a10 = _mm256_dpbusd_avx_epi32(a10, x1, u);
            a11 = _mm256_dpbusd_avx_epi32(a11, x1, v);
            a20 = _mm256_dpbusd_avx_epi32(a20, x2, u);
            a21 = _mm256_dpbusd_avx_epi32(a21, x2, v);
            a30 = _mm256_dpbusd_avx_epi32(a30, x3, u);
            a31 = _mm256_dpbusd_avx_epi32(a31, x3, v);
        }
        __m256i acc[8] = {a00, a01, a10, a11, a20, a21, a30, a31};
        store_tile16(acc, bias, &r, out, out_channels, count, b * 8);
    }
    for (; b < blocks; b++) {
        const int8_t *w = weights + b * kp * 8;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (ptrdiff_t j = 0; j < kp; j += 4) {
            __m256i u = _mm256_loadu_si256((const __m256i *)(const void *)(w + j * 8));
            if (j < full) {
                a0 = _mm256_dpbusd_avx_epi32(a0, _mm256_xor_si256(_mm256_set1_epi32(load32(r0 + j)), flip), u);
                a1 = _mm256_dpbusd_avx_epi32(a1, _mm256_xor_si256(_mm256_set1_epi32(load32(r1 + j)), flip), u);
                a2 = _mm256_dpbusd_avx_epi32(a2, _mm256_xor_si256(_mm256_set1_epi32(load32(r2 + j)), flip), u);
                a3 = _mm256_dpbusd_avx_epi32(a3, _mm256_xor_si256(_mm256_set1_epi32(load32(r3 + j)), flip), u);
            } else {
                a0 = _mm256_dpbusd_avx_epi32(a0, quad(r0, j, k), u);
                a1 = _mm256_dpbusd_avx_epi32(a1, quad(r1, j, k), u);
                a2 = _mm256_dpbusd_avx_epi32(a2, quad(r2, j, k), u);
                a3 = _mm256_dpbusd_avx_epi32(a3, quad(r3, j, k), u);
            }
        }
        __m256i acc[4] = {a0, a1, a2, a3};
        store_tile8(acc, bias, &r, out, out_channels, count, b * 8);
    }
}

// MARK: Depthwise

PARLA_AVX2 void parla_qs8_depthwise_avx2(const parla_qs8_depthwise *d, const parla_qs8_requant *rq, ptrdiff_t row_begin,
                                         ptrdiff_t row_end) {
    const ptrdiff_t C = d->channels, cp = d->padded_channels, kw = d->kernel_width;
    const ptrdiff_t ih = d->input_height, iw = d->input_width, ow = d->output_width;
    const __m256i zp16 = _mm256_set1_epi16((int16_t)d->input_zero_point);
    const __m256i zp32 = _mm256_set1_epi32(d->input_zero_point);
    rq_vectors r = rq_load(rq);
    for (ptrdiff_t oy = row_begin; oy < row_end; oy++) {
        const ptrdiff_t iy0 = oy * d->stride_y - d->pad_top;
        const ptrdiff_t ky0 = iy0 < 0 ? -iy0 : 0;
        const ptrdiff_t ky1 = ih - iy0 < d->kernel_height ? ih - iy0 : d->kernel_height;
        for (ptrdiff_t ox = 0; ox < ow; ox++) {
            const ptrdiff_t ix0 = ox * d->stride_x - d->pad_left;
            const ptrdiff_t kx0 = ix0 < 0 ? -ix0 : 0;
            const ptrdiff_t kx1 = iw - ix0 < kw ? iw - ix0 : kw;
            int8_t *out = d->output + (oy * ow + ox) * C;
            const int8_t *in = d->input + (iy0 * iw + ix0) * C;
            ptrdiff_t c = 0;
            // 16 channels per step: (x - zp)·w in int16 (|.| <= 255·127), widened into two int32 accumulators.
            for (; c + 16 <= C; c += 16) {
                __m256i lo = load8(d->bias + c), hi = load8(d->bias + c + 8);
                for (ptrdiff_t ky = ky0; ky < ky1; ky++) {
                    const int8_t *xi = in + ky * iw * C + c;
                    const int16_t *wi = d->weights + ky * kw * cp + c;
                    for (ptrdiff_t kx = kx0; kx < kx1; kx++) {
                        __m256i x = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(xi + kx * C)));
                        __m256i w = _mm256_loadu_si256((const __m256i *)(const void *)(wi + kx * cp));
                        __m256i p = _mm256_mullo_epi16(_mm256_sub_epi16(x, zp16), w);
                        lo = _mm256_add_epi32(lo, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(p)));
                        hi = _mm256_add_epi32(hi, _mm256_cvtepi16_epi32(_mm256_extracti128_si256(p, 1)));
                    }
                }
                store8(out + c, requantize8(lo, &r, c), 8);
                store8(out + c + 8, requantize8(hi, &r, c + 8), 8);
            }
            // 8 (or fewer) channels per step; a partial group is read through a buffer padded with the zero point.
            for (; c < C; c += 8) {
                const ptrdiff_t lanes = C - c < 8 ? C - c : 8;
                __m256i acc = load8(d->bias + c);
                for (ptrdiff_t ky = ky0; ky < ky1; ky++) {
                    const int8_t *xi = in + ky * iw * C + c;
                    const int16_t *wi = d->weights + ky * kw * cp + c;
                    for (ptrdiff_t kx = kx0; kx < kx1; kx++) {
                        int8_t tmp[8];
                        memset(tmp, (int)(int8_t)d->input_zero_point, 8);
                        memcpy(tmp, xi + kx * C, (size_t)lanes);
                        __m256i x = _mm256_sub_epi32(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)tmp)), zp32);
                        __m256i w = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(wi + kx * cp)));
                        acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(x, w));
                    }
                }
                store8(out + c, requantize8(acc, &r, c), lanes);
            }
        }
    }
}

// MARK: ADD

PARLA_AVX2_INLINE __m256i splat_left(int32_t shift) { return _mm256_set1_epi32(shift > 0 ? shift : 0); }
PARLA_AVX2_INLINE __m256i splat_right(int32_t shift) { return _mm256_set1_epi32(shift > 0 ? 0 : -shift); }

PARLA_AVX2 void parla_qs8_add_avx2(const int8_t *a, const int8_t *b, int8_t *out, ptrdiff_t count, const parla_qs8_add *p) {
    const __m256i o1 = _mm256_set1_epi32(p->input1_offset), o2 = _mm256_set1_epi32(p->input2_offset);
    const __m256i m1 = _mm256_set1_epi32(p->input1_multiplier), l1 = splat_left(p->input1_shift), s1 = splat_right(p->input1_shift);
    const __m256i m2 = _mm256_set1_epi32(p->input2_multiplier), l2 = splat_left(p->input2_shift), s2 = splat_right(p->input2_shift);
    const __m256i mo = _mm256_set1_epi32(p->output_multiplier), lo = splat_left(p->output_shift), so = splat_right(p->output_shift);
    const __m256i oo = _mm256_set1_epi32(p->output_offset);
    const __m256i minimum = _mm256_set1_epi32(p->activation_min), maximum = _mm256_set1_epi32(p->activation_max);
    const __m256i zero = _mm256_setzero_si256();
    // Sums of 8 values: both inputs shifted left by 20 and scaled to the common scale.
#define PARLA_ADD_SUM(xa, xb) _mm256_add_epi32(                                                                   \
        mbqm8(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtepi8_epi32(xa), o1), 20), m1, l1, s1),                   \
        mbqm8(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtepi8_epi32(xb), o2), 20), m2, l2, s2))
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
            __m256i q = _mm256_add_epi32(mbqm8(PARLA_ADD_SUM(xa, xb), mo, lo, so), oo);
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
            __m256i left = _mm256_blendv_epi8(lo, _mm256_max_epi32(ns, zero), negative);
            __m256i right = _mm256_blendv_epi8(so, _mm256_max_epi32(_mm256_sub_epi32(zero, ns), zero), negative);
            __m256i q = _mm256_add_epi32(mbqm8(v, m, left, right), oo);
            store8(out + pixel + c, _mm256_min_epi32(_mm256_max_epi32(q, minimum), maximum), lanes);
        }
    }
#undef PARLA_ADD_SUM
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
