// The AVX2 and AVX-VNNI int8 GEMM of convolutions and fully connected layers (see CParlaQS8.h and docs/int8-kernels.md); the shared helpers are in qs8_x86.h.
#include "qs8_x86.h"

#if defined(__x86_64__)

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

#endif
