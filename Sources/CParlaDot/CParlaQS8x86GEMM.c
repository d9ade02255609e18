// The AVX2, AVX-VNNI and AVX-512 VNNI int8 GEMM of convolutions and fully connected layers (see CParlaQS8.h and
// docs/int8-kernels.md); the helpers shared with the other x86 kernels are in qs8_x86.h, the AVX-512 ones below.
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

// MARK: AVX-512 VNNI

#define PARLA_AVX512 __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni")))
#define PARLA_AVX512_INLINE static inline __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni"), always_inline))

/// Pixels per register tile of the AVX-512 GEMM.
#define PARLA_TILE_PIXELS 8

/// One branch (positive or PReLU-negative) of the epilogue for 16 channels, loaded once per tile and block.
typedef struct {
    __m512i m, left, right, mask, half;
} rq16_branch;

/// The 64-bit epilogue's per-block constants (requantize16_wide).
typedef struct {
    __m512i m_odd, add_even, add_odd, sub_even, sub_odd, shift_even, shift_odd, m;
    int fold;
} rq16_wide;

/// The epilogue's per-call constants.
typedef struct {
    __m512i zero_point, minimum, maximum;
    int negative, simple, clamp_min, clamp_max;
    /// requantize16_wide's constants per block, built once per call (NULL: built per tile).
    const rq16_wide *wide;
} rq16_consts;

PARLA_AVX512_INLINE __m512i load16(const int32_t *p) { return _mm512_loadu_si512((const void *)p); }

PARLA_AVX512_INLINE rq16_consts rq16_consts_load(const parla_qs8_requant *rq) {
    rq16_consts k;
    k.zero_point = _mm512_set1_epi32(rq->zero_point);
    k.minimum = _mm512_set1_epi32(rq->activation_min);
    k.maximum = _mm512_set1_epi32(rq->activation_max);
    k.negative = rq->has_negative;
    k.simple = rq->simple;
    k.clamp_min = rq->activation_min > -128;  // vpmovsdb saturates to -128...127 by itself
    k.clamp_max = rq->activation_max < 127;
    k.wide = NULL;
    return k;
}

/// Rows `row` (0: positive, 3: negative) ... row + 2 of the requantization table for channels c...c+15.
PARLA_AVX512_INLINE rq16_branch rq16_branch_load(const parla_qs8_requant *rq, ptrdiff_t row, ptrdiff_t c) {
    const int32_t *t = rq->table + row * rq->stride + c;
    const __m512i one = _mm512_set1_epi32(1);
    rq16_branch b;
    b.m = load16(t);
    b.left = load16(t + rq->stride);
    b.right = load16(t + 2 * rq->stride);
    b.mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, b.right), one);
    b.half = _mm512_srai_epi32(b.mask, 1);
    return b;
}

/// requantize8 in 16 lanes (the same arithmetic, see mbqm8): the accumulator `v` (bias included) to int8 bytes.
/// SRDHM from vpmuldq on the even and odd lanes, bits 31...62 merged with a mask blend; RDBPOT's carry from a
/// compare into a mask; the clamp only where the activation range is narrower than int8, vpmovsdb saturates.
/// NEG (PReLU branch) and SIMPLE (rq->simple) are constants at each call, so every variant is straight-line code.
PARLA_AVX512_INLINE __m128i requantize16(const int NEG, const int SIMPLE, __m512i v, const rq16_branch *pos,
                                         const rq16_branch *neg, const rq16_consts *k) {
    const __m512i one = _mm512_set1_epi32(1);
    __m512i m = pos->m, left = pos->left, right = pos->right, mask = pos->mask, half = pos->half;
    if (NEG) {
        __mmask16 n = _mm512_cmplt_epi32_mask(v, _mm512_setzero_si512());
        m = _mm512_mask_blend_epi32(n, m, neg->m);
        if (!SIMPLE) left = _mm512_mask_blend_epi32(n, left, neg->left);
        right = _mm512_mask_blend_epi32(n, right, neg->right);
        mask = _mm512_mask_blend_epi32(n, mask, neg->mask);
        half = _mm512_mask_blend_epi32(n, half, neg->half);
    }
    __m512i x = SIMPLE ? v : _mm512_sllv_epi32(v, left);
    const __m512i round = _mm512_set1_epi64((int64_t)1 << 30);
    __m512i even = _mm512_add_epi64(_mm512_mul_epi32(x, m), round);
    __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(m, 32)), round);
    __m512i h = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 31), _mm512_slli_epi64(odd, 1));
    if (!SIMPLE) {
        const __m512i minimum = _mm512_set1_epi32(INT32_MIN);
        __mmask16 both = _mm512_cmpeq_epi32_mask(x, minimum) & _mm512_cmpeq_epi32_mask(m, minimum);
        h = _mm512_mask_sub_epi32(h, both, h, one);  // Int32.min² -> Int32.max
    }
    __m512i threshold = _mm512_sub_epi32(half, _mm512_srai_epi32(h, 31));
    __mmask16 above = _mm512_cmpgt_epi32_mask(_mm512_and_si512(h, mask), threshold);
    __m512i q = _mm512_srav_epi32(h, right);
    q = _mm512_add_epi32(_mm512_mask_add_epi32(q, above, q, one), k->zero_point);
    if (k->clamp_min) q = _mm512_max_epi32(q, k->minimum);
    if (k->clamp_max) q = _mm512_min_epi32(q, k->maximum);
    return _mm512_cvtsepi32_epi8(q);
}

/// The epilogue without PReLU for `simple` requantizers in 64-bit lanes, channels c...c+15 (even and odd channels
/// apart). With A = v·m (vpmuldq) and r the right shift, SRDHM = ⌊(A + 2^30) / 2^31⌋ and the rounding divide
/// ⌊(h + 2^(r−1) − [h < 0]) / 2^r⌋ (r ≥ 1; the identity for r = 0) merge (nested floors of divisions by powers of
/// two) into q = ⌊(A + 2^30 + 2^(30+r) − 2^31·[A < 0]) / 2^(31+r)⌋: one add, one masked subtract and vpsravq
/// per 8 lanes. [A < 0] differs from [h < 0] only for −2^30 ≤ A < 0, where h = 0 and both give 0. The zero point
/// is folded into the constant as zp·2^(31+r) where every r ≤ 23 (no 64-bit overflow: |A| ≤ 2^62). The constants
/// are built once per call (up to 8 blocks; 0.95–0.98× on the 1×1 layers against building them per tile).
PARLA_AVX512_INLINE rq16_wide rq16_wide_load(const parla_qs8_requant *rq, ptrdiff_t c) {
    const int32_t *t = rq->table + c;
    const __m512i r = load16(t + 2 * rq->stride), zero = _mm512_setzero_si512(), one = _mm512_set1_epi64(1);
    rq16_wide w;
    w.m = load16(t);
    w.m_odd = _mm512_srli_epi64(w.m, 32);
    w.fold = _mm512_cmpgt_epi32_mask(r, _mm512_set1_epi32(23)) == 0;
    const __m512i zp = _mm512_set1_epi64(w.fold ? rq->zero_point : 0);
    const __m512i re = _mm512_and_si512(r, _mm512_set1_epi64(0xFFFFFFFF)), ro = _mm512_srli_epi64(r, 32);
    const __mmask8 pe = _mm512_cmpgt_epi64_mask(re, zero), po = _mm512_cmpgt_epi64_mask(ro, zero);
    const __m512i base = _mm512_set1_epi64((int64_t)1 << 30), carry = _mm512_set1_epi64((int64_t)1 << 31);
    w.shift_even = _mm512_add_epi64(re, _mm512_set1_epi64(31));
    w.shift_odd = _mm512_add_epi64(ro, _mm512_set1_epi64(31));
    w.add_even = _mm512_add_epi64(_mm512_add_epi64(base, _mm512_maskz_sllv_epi64(pe, one, _mm512_add_epi64(re, _mm512_set1_epi64(30)))),
                                  _mm512_sllv_epi64(zp, w.shift_even));
    w.add_odd = _mm512_add_epi64(_mm512_add_epi64(base, _mm512_maskz_sllv_epi64(po, one, _mm512_add_epi64(ro, _mm512_set1_epi64(30)))),
                                 _mm512_sllv_epi64(zp, w.shift_odd));
    w.sub_even = _mm512_maskz_mov_epi64(pe, carry);
    w.sub_odd = _mm512_maskz_mov_epi64(po, carry);
    return w;
}

PARLA_AVX512_INLINE __m128i requantize16_wide(__m512i v, const rq16_wide *w, const rq16_consts *k) {
    const __m512i zero = _mm512_setzero_si512();
    __m512i even = _mm512_mul_epi32(v, w->m), odd = _mm512_mul_epi32(_mm512_srli_epi64(v, 32), w->m_odd);
    const __mmask8 ne = _mm512_cmplt_epi64_mask(even, zero), no = _mm512_cmplt_epi64_mask(odd, zero);
    even = _mm512_add_epi64(even, w->add_even);
    odd = _mm512_add_epi64(odd, w->add_odd);
    even = _mm512_srav_epi64(_mm512_mask_sub_epi64(even, ne, even, w->sub_even), w->shift_even);
    odd = _mm512_srav_epi64(_mm512_mask_sub_epi64(odd, no, odd, w->sub_odd), w->shift_odd);
    __m512i q = _mm512_mask_shuffle_epi32(even, 0xAAAA, odd, _MM_PERM_CDAB);  // odd results to the odd lanes
    if (!w->fold) q = _mm512_add_epi32(q, k->zero_point);
    if (k->clamp_min) q = _mm512_max_epi32(q, k->minimum);
    if (k->clamp_max) q = _mm512_min_epi32(q, k->maximum);
    return _mm512_cvtsepi32_epi8(q);
}

/// Stores `lanes` (1...16) bytes.
PARLA_AVX512_INLINE void store16(int8_t *p, __m128i b, ptrdiff_t lanes) {
    if (lanes >= 16) {
        _mm_storeu_si128((__m128i *)(void *)p, b);
    } else {
        _mm_mask_storeu_epi8(p, (__mmask16)((1u << lanes) - 1), b);
    }
}

/// Requantizes and stores channels c...c+15 of the first `count` of P pixels' accumulators `acc`.
PARLA_AVX512_INLINE void store_block(const int P, const __m512i *acc, const parla_qs8_requant *rq, const rq16_consts *k,
                                     int8_t *out, ptrdiff_t out_channels, ptrdiff_t c, ptrdiff_t count) {
    const ptrdiff_t lanes = out_channels - c < 16 ? out_channels - c : 16;
    if (!k->negative && k->simple) {
        rq16_wide w = k->wide ? k->wide[c / 16] : rq16_wide_load(rq, c);
        for (int i = 0; i < P; i++) {
            if (i < count) store16(out + i * out_channels + c, requantize16_wide(acc[i], &w, k), lanes);
        }
        return;
    }
    rq16_branch pos = rq16_branch_load(rq, 0, c), neg = pos;
    if (k->negative) neg = rq16_branch_load(rq, 3, c);
#define PARLA_STORE_PIXELS(NEG, SIMPLE)                                                                             \
    for (int i = 0; i < P; i++) {                                                                                  \
        if (i < count) store16(out + i * out_channels + c, requantize16(NEG, SIMPLE, acc[i], &pos, &neg, k), lanes); \
    }
    if (k->negative) {
        if (k->simple) { PARLA_STORE_PIXELS(1, 1) } else { PARLA_STORE_PIXELS(1, 0) }
    } else {
        if (k->simple) { PARLA_STORE_PIXELS(0, 1) } else { PARLA_STORE_PIXELS(0, 0) }
    }
#undef PARLA_STORE_PIXELS
}

/// rq16_branch for 8 channels (a last block of at most 8 channels, in ymm registers).
typedef struct {
    __m256i m, left, right, mask, half;
} rq8_branch;

PARLA_AVX512_INLINE rq8_branch rq8_branch_load(const parla_qs8_requant *rq, ptrdiff_t row, ptrdiff_t c) {
    const int32_t *t = rq->table + row * rq->stride + c;
    const __m256i one = _mm256_set1_epi32(1);
    rq8_branch b;
    b.m = load8(t);
    b.left = load8(t + rq->stride);
    b.right = load8(t + 2 * rq->stride);
    b.mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, b.right), one);
    b.half = _mm256_srai_epi32(b.mask, 1);
    return b;
}

/// requantize16 in 8 lanes (AVX-512 VL: the same mask-register arithmetic on ymm).
PARLA_AVX512_INLINE __m128i requantize8_vl(const int NEG, const int SIMPLE, __m256i v, const rq8_branch *pos,
                                           const rq8_branch *neg, const rq16_consts *k) {
    const __m256i one = _mm256_set1_epi32(1);
    __m256i m = pos->m, left = pos->left, right = pos->right, mask = pos->mask, half = pos->half;
    if (NEG) {
        __mmask8 n = _mm256_cmplt_epi32_mask(v, _mm256_setzero_si256());
        m = _mm256_mask_blend_epi32(n, m, neg->m);
        if (!SIMPLE) left = _mm256_mask_blend_epi32(n, left, neg->left);
        right = _mm256_mask_blend_epi32(n, right, neg->right);
        mask = _mm256_mask_blend_epi32(n, mask, neg->mask);
        half = _mm256_mask_blend_epi32(n, half, neg->half);
    }
    __m256i x = SIMPLE ? v : _mm256_sllv_epi32(v, left);
    const __m256i round = _mm256_set1_epi64x((int64_t)1 << 30);
    __m256i even = _mm256_add_epi64(_mm256_mul_epi32(x, m), round);
    __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32)), round);
    __m256i h = _mm256_mask_blend_epi32(0xAA, _mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1));
    if (!SIMPLE) {
        const __m256i minimum = _mm256_set1_epi32(INT32_MIN);
        __mmask8 both = _mm256_cmpeq_epi32_mask(x, minimum) & _mm256_cmpeq_epi32_mask(m, minimum);
        h = _mm256_mask_sub_epi32(h, both, h, one);  // Int32.min² -> Int32.max
    }
    __m256i threshold = _mm256_sub_epi32(half, _mm256_srai_epi32(h, 31));
    __mmask8 above = _mm256_cmpgt_epi32_mask(_mm256_and_si256(h, mask), threshold);
    __m256i q = _mm256_srav_epi32(h, right);
    q = _mm256_add_epi32(_mm256_mask_add_epi32(q, above, q, one), _mm512_castsi512_si256(k->zero_point));
    if (k->clamp_min) q = _mm256_max_epi32(q, _mm512_castsi512_si256(k->minimum));
    if (k->clamp_max) q = _mm256_min_epi32(q, _mm512_castsi512_si256(k->maximum));
    return _mm256_cvtsepi32_epi8(q);
}

/// store_block for a last block of at most 8 channels c...out_channels − 1.
PARLA_AVX512_INLINE void store_half_block(const int P, const __m256i *acc, const parla_qs8_requant *rq,
                                          const rq16_consts *k, int8_t *out, ptrdiff_t out_channels, ptrdiff_t c,
                                          ptrdiff_t count) {
    const ptrdiff_t lanes = out_channels - c;
    rq8_branch pos = rq8_branch_load(rq, 0, c), neg = pos;
    if (k->negative) neg = rq8_branch_load(rq, 3, c);
#define PARLA_STORE_PIXELS(NEG, SIMPLE)                                                                             \
    for (int i = 0; i < P; i++) {                                                                                  \
        if (i < count) {                                                                                           \
            __m128i b = requantize8_vl(NEG, SIMPLE, acc[i], &pos, &neg, k);                                        \
            if (lanes >= 8) {                                                                                      \
                _mm_storel_epi64((__m128i *)(void *)(out + i * out_channels + c), b);                              \
            } else {                                                                                               \
                _mm_mask_storeu_epi8(out + i * out_channels + c, (__mmask16)((1u << lanes) - 1), b);               \
            }                                                                                                      \
        }                                                                                                          \
    }
    if (k->negative) {
        if (k->simple) { PARLA_STORE_PIXELS(1, 1) } else { PARLA_STORE_PIXELS(1, 0) }
    } else {
        if (k->simple) { PARLA_STORE_PIXELS(0, 1) } else { PARLA_STORE_PIXELS(0, 0) }
    }
#undef PARLA_STORE_PIXELS
}

/// The GEMM of P unsigned rows of `kp` bytes (`rows`, row i at rows + i·kp) against every block of 16 output
/// channels, P = 8, 4 or 1 (the first `count` pixels are stored): P pixels × 32 channels per pass, 4 taps per
/// step, then the last odd block with P × 16. The accumulators start at the bias.
PARLA_AVX512_INLINE void gemm_tile(const int P, const uint8_t *rows, ptrdiff_t kp, const int8_t *weights,
                                   ptrdiff_t blocks, const int32_t *bias, const parla_qs8_requant *rq,
                                   const rq16_consts *k, int8_t *out, ptrdiff_t out_channels, ptrdiff_t count) {
    // A last block of at most 8 channels (24, 36, 56, 72, 88 outputs) runs in ymm registers, half the work of a
    // padded zmm block: its weights are the first 32 bytes of each 64-byte tap quad row.
    const int half = out_channels - (blocks - 1) * 16 <= 8;
    const ptrdiff_t full = blocks - half;
    ptrdiff_t b = 0;
    for (; b + 2 <= full; b += 2) {
        const int8_t *w0 = weights + b * kp * 16, *w1 = w0 + kp * 16;
        __m512i acc0[PARLA_TILE_PIXELS], acc1[PARLA_TILE_PIXELS];
        __m512i b0 = load16(bias + b * 16), b1 = load16(bias + b * 16 + 16);
        for (int i = 0; i < P; i++) { acc0[i] = b0; acc1[i] = b1; }
        for (ptrdiff_t j = 0; j < kp; j += 4) {
            __m512i u = _mm512_loadu_si512((const void *)(w0 + j * 16)), v = _mm512_loadu_si512((const void *)(w1 + j * 16));
            for (int i = 0; i < P; i++) {
                __m512i x = _mm512_set1_epi32(load32(rows + i * kp + j));
                acc0[i] = _mm512_dpbusd_epi32(acc0[i], x, u);
                acc1[i] = _mm512_dpbusd_epi32(acc1[i], x, v);
            }
        }
        store_block(P, acc0, rq, k, out, out_channels, b * 16, count);
        store_block(P, acc1, rq, k, out, out_channels, b * 16 + 16, count);
    }
    if (b < full && half) {  // 16 + at most 8 channels: blocks b (zmm) and b + 1 (ymm)
        const int8_t *w0 = weights + b * kp * 16, *w1 = w0 + kp * 16;
        __m512i acc0[PARLA_TILE_PIXELS];
        __m256i acc1[PARLA_TILE_PIXELS];
        __m512i b0 = load16(bias + b * 16);
        __m256i b1 = load8(bias + b * 16 + 16);
        for (int i = 0; i < P; i++) { acc0[i] = b0; acc1[i] = b1; }
        for (ptrdiff_t j = 0; j < kp; j += 4) {
            __m512i u = _mm512_loadu_si512((const void *)(w0 + j * 16));
            __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(w1 + j * 16));
            for (int i = 0; i < P; i++) {
                __m512i x = _mm512_set1_epi32(load32(rows + i * kp + j));
                acc0[i] = _mm512_dpbusd_epi32(acc0[i], x, u);
                acc1[i] = _mm256_dpbusd_epi32(acc1[i], _mm512_castsi512_si256(x), v);
            }
        }
        store_block(P, acc0, rq, k, out, out_channels, b * 16, count);
        store_half_block(P, acc1, rq, k, out, out_channels, b * 16 + 16, count);
    } else if (b < full) {
        const int8_t *w = weights + b * kp * 16;
        __m512i acc[PARLA_TILE_PIXELS];
        __m512i b0 = load16(bias + b * 16);
        for (int i = 0; i < P; i++) acc[i] = b0;
        for (ptrdiff_t j = 0; j < kp; j += 4) {
            __m512i u = _mm512_loadu_si512((const void *)(w + j * 16));
            for (int i = 0; i < P; i++) acc[i] = _mm512_dpbusd_epi32(acc[i], _mm512_set1_epi32(load32(rows + i * kp + j)), u);
        }
        store_block(P, acc, rq, k, out, out_channels, b * 16, count);
    } else if (half) {  // only the last block, at most 8 channels
        const int8_t *w = weights + b * kp * 16;
        __m256i acc[PARLA_TILE_PIXELS];
        __m256i b0 = load8(bias + b * 16);
        for (int i = 0; i < P; i++) acc[i] = b0;
        for (ptrdiff_t j = 0; j < kp; j += 4) {
            __m256i u = _mm256_loadu_si256((const __m256i *)(const void *)(w + j * 16));
            for (int i = 0; i < P; i++) acc[i] = _mm256_dpbusd_epi32(acc[i], _mm256_set1_epi32(load32(rows + i * kp + j)), u);
        }
        store_half_block(P, acc, rq, k, out, out_channels, b * 16, count);
    }
}

/// gemm_tile over `count` rows in groups of 8 (the last group with the smallest P that covers it).
PARLA_AVX512_INLINE void gemm_rows(const uint8_t *rows, ptrdiff_t kp, const int8_t *weights, ptrdiff_t blocks,
                                   const int32_t *bias, const parla_qs8_requant *rq, const rq16_consts *k, int8_t *out,
                                   ptrdiff_t out_channels, ptrdiff_t count) {
    for (ptrdiff_t i = 0; i < count; i += PARLA_TILE_PIXELS) {
        const ptrdiff_t n = count - i < PARLA_TILE_PIXELS ? count - i : PARLA_TILE_PIXELS;
        const uint8_t *r = rows + i * kp;
        int8_t *o = out + i * out_channels;
        if (n > 4) {
            gemm_tile(8, r, kp, weights, blocks, bias, rq, k, o, out_channels, n);
        } else if (n > 1) {
            gemm_tile(4, r, kp, weights, blocks, bias, rq, k, o, out_channels, n);
        } else {
            gemm_tile(1, r, kp, weights, blocks, bias, rq, k, o, out_channels, n);
        }
    }
}

/// Copies `n` int8 values made unsigned (x + 128) to `d`. Reads only the `n` values (a masked load at the end);
/// stores may write up to 63 bytes past d + n: the scratch has that slack, and rows are written in order, so a
/// later segment or row overwrites them.
PARLA_AVX512_INLINE void copy_unsigned(uint8_t *d, const int8_t *s, ptrdiff_t n) {
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    ptrdiff_t i = 0;
    for (; i + 64 <= n; i += 64) {
        _mm512_storeu_si512((void *)(d + i), _mm512_xor_si512(_mm512_loadu_si512((const void *)(s + i)), flip));
    }
    if (i < n) {
        __mmask64 k = ((__mmask64)1 << (n - i)) - 1;
        _mm512_storeu_si512((void *)(d + i), _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, s + i), flip));
    }
}

/// copy_unsigned for the short segments of convolutions with few input channels (n ≤ 16): a plain 16-byte load
/// where 16 bytes lie before `end` (the end of the input), else a masked one; one 16-byte store.
PARLA_AVX512_INLINE void copy_unsigned_short(uint8_t *d, const int8_t *s, ptrdiff_t n, const int8_t *end) {
    const __m128i flip = _mm_set1_epi8((char)0x80);
    __m128i x = end - s >= 16 ? _mm_loadu_si128((const __m128i *)(const void *)s)
                              : _mm_maskz_loadu_epi8((__mmask16)((1u << n) - 1), s);
    _mm_storeu_si128((__m128i *)(void *)d, _mm_xor_si128(x, flip));
}

/// Writes `n` copies of byte `v` (stores may run up to 63 bytes past d + n, as in copy_unsigned).
PARLA_AVX512_INLINE void fill_bytes(uint8_t *d, uint8_t v, ptrdiff_t n) {
    const __m512i x = _mm512_set1_epi8((char)v);
    for (ptrdiff_t i = 0; i < n; i += 64) _mm512_storeu_si512((void *)(d + i), x);
}

/// The window of output pixel (oy, ox) of `c` as `taps` unsigned bytes in OHWI tap order (padding: the zero
/// point). Windows inside the image copy kernel-height segments of kernel-width·channels bytes.
PARLA_AVX512_INLINE void window_row(const parla_qs8_conv *c, ptrdiff_t oy, ptrdiff_t ox, const int8_t *end, uint8_t *d) {
    const ptrdiff_t iy0 = oy * c->stride_y - c->pad_top, ix0 = ox * c->stride_x - c->pad_left;
    const ptrdiff_t ci = c->input_channels, kw = c->kernel_width, kh = c->kernel_height, span = kw * ci;
    const ptrdiff_t line = c->input_width * ci;
    if (iy0 >= 0 && iy0 + kh <= c->input_height && ix0 >= 0 && ix0 + kw <= c->input_width) {
        const int8_t *s = c->input + iy0 * line + ix0 * ci;
        if (span <= 16) {
            for (ptrdiff_t ky = 0; ky < kh; ky++) copy_unsigned_short(d + ky * span, s + ky * line, span, end);
        } else {
            for (ptrdiff_t ky = 0; ky < kh; ky++) copy_unsigned(d + ky * span, s + ky * line, span);
        }
        return;
    }
    const uint8_t pad = (uint8_t)(c->input_zero_point + 128);
    // The kernel columns inside the image.
    const ptrdiff_t kx0 = ix0 < 0 ? -ix0 : 0, kx1 = c->input_width - ix0 < kw ? c->input_width - ix0 : kw;
    for (ptrdiff_t ky = 0; ky < kh; ky++, d += span) {
        const ptrdiff_t iy = iy0 + ky;
        if (iy < 0 || iy >= c->input_height || kx1 <= kx0) {
            fill_bytes(d, pad, span);
            continue;
        }
        if (kx0 > 0) fill_bytes(d, pad, kx0 * ci);
        copy_unsigned(d + kx0 * ci, c->input + iy * line + (ix0 + kx0) * ci, (kx1 - kx0) * ci);
        if (kx1 < kw) fill_bytes(d + kx1 * ci, pad, (kw - kx1) * ci);
    }
}

/// The windows of `count` output pixels from (oy, ox) on, row i at d + i·kp. Runs of interior windows of
/// convolutions with few input channels (kernel width · channels ≤ 16, the stems) copy each kernel row with one
/// 16-byte load, xor and store per segment, without per-pixel bounds checks; the rest goes through window_row.
/// Not inlined: with its own registers the loop keeps its pointers and counters out of memory.
static __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vnni"), noinline)) void
build_windows(const parla_qs8_conv *c, ptrdiff_t oy, ptrdiff_t ox, ptrdiff_t count, ptrdiff_t kp, uint8_t *d) {
    const ptrdiff_t ci = c->input_channels, kw = c->kernel_width, kh = c->kernel_height, sx = c->stride_x * ci;
    const ptrdiff_t width = c->input_width, height = c->input_height, ow = c->output_width, span = kw * ci;
    const ptrdiff_t line = width * ci;
    const int8_t *end = c->input + height * line;
    const __m128i flip = _mm_set1_epi8((char)0x80);
    // Output columns whose windows lie inside the image horizontally: ix0 = ox·stride − pad_left in 0...width − kw.
    const ptrdiff_t first = (c->pad_left + c->stride_x - 1) / c->stride_x;
    ptrdiff_t after = width - kw + c->pad_left >= 0 ? (width - kw + c->pad_left) / c->stride_x + 1 : 0;
    if (after > ow) after = ow;
    ptrdiff_t i = 0;
    while (i < count) {
        const ptrdiff_t iy0 = oy * c->stride_y - c->pad_top;
        // Plain 16-byte loads need the window's rows inside the image and 16 readable bytes from the last segment.
        const int fast = span <= 16 && iy0 >= 0 && iy0 + kh <= height
            && (iy0 + kh - 1) * line + (width - kw) * ci + 16 <= height * line;
        const ptrdiff_t stop = count - i < ow - ox ? count : i + ow - ox;  // the pixels of this output row
        while (i < stop) {
            if (fast && ox >= first && ox < after) {
                const ptrdiff_t run = stop - i < after - ox ? stop : i + after - ox;
                const int8_t *s = c->input + iy0 * line + (ox * c->stride_x - c->pad_left) * ci;
                // The stems' kernel heights (3, 5) as constants: the unrolled row copies take half the time of
                // the loop over ky (A/B: the mesh stem's windows 0.028 -> 0.014 ms).
#define PARLA_COPY_ROWS(KH)                                                                                         \
    for (; i < run; i++, ox++, s += sx) {                                                                          \
        uint8_t *o = d + i * kp;                                                                                   \
        for (ptrdiff_t ky = 0; ky < (KH); ky++) {                                                                  \
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + ky * line));                           \
            _mm_storeu_si128((__m128i *)(void *)(o + ky * span), _mm_xor_si128(x, flip));                         \
        }                                                                                                          \
    }
                if (kh == 3) {
                    PARLA_COPY_ROWS(3)
                } else if (kh == 5) {
                    PARLA_COPY_ROWS(5)
                } else {
                    PARLA_COPY_ROWS(kh)
                }
#undef PARLA_COPY_ROWS
            } else {
                window_row(c, oy, ox, end, d + i * kp);
                i++;
                ox++;
            }
        }
        if (ox == ow) {
            ox = 0;
            oy++;
        }
    }
}

PARLA_AVX512 void parla_qs8_gemm8_avx512vnni(const int8_t *const *rows, ptrdiff_t k, uint8_t *scratch,
                                            const int8_t *weights, const int32_t *bias, const parla_qs8_requant *rq,
                                            int8_t *out, ptrdiff_t out_channels, ptrdiff_t count) {
    const ptrdiff_t kp = (k + 3) / 4 * 4, blocks = (out_channels + 15) / 16;
    for (ptrdiff_t i = 0; i < count; i++) copy_unsigned(scratch + i * kp, rows[i], k);
    rq16_consts c = rq16_consts_load(rq);
    gemm_rows(scratch, kp, weights, blocks, bias, rq, &c, out, out_channels, count);
}

PARLA_AVX512 void parla_qs8_conv_avx512vnni(const parla_qs8_conv *c, const parla_qs8_requant *rq, ptrdiff_t row_begin,
                                           ptrdiff_t row_end, uint8_t *scratch, ptrdiff_t scratch_bytes) {
    const ptrdiff_t k = c->kernel_height * c->kernel_width * c->input_channels, kp = (k + 3) / 4 * 4;
    const ptrdiff_t co = c->output_channels, blocks = (co + 15) / 16, ow = c->output_width;
    // Rows per batch: as many groups of 8 as the scratch holds, up to 8 groups. Building many windows before
    // reading them keeps the tile's 4-byte loads away from the stores still in flight (a load spanning two
    // segments' stores cannot be forwarded and stalls).
    ptrdiff_t batch = (scratch_bytes - 64) / kp / PARLA_TILE_PIXELS * PARLA_TILE_PIXELS;
    if (batch > 8 * PARLA_TILE_PIXELS) batch = 8 * PARLA_TILE_PIXELS;
    const int direct = c->kernel_height == 1 && c->kernel_width == 1 && c->stride_y == 1 && c->stride_x == 1
        && c->pad_top == 0 && c->pad_left == 0 && ow == c->input_width;
    rq16_consts consts = rq16_consts_load(rq);
    // The 64-bit epilogue's constants once per call for up to 8 blocks (128 channels).
    rq16_wide wide[8];
    if (!consts.negative && consts.simple && blocks <= 8) {
        for (ptrdiff_t b = 0; b < blocks; b++) wide[b] = rq16_wide_load(rq, b * 16);
        consts.wide = wide;
    }
    const ptrdiff_t last = row_end * ow;
    for (ptrdiff_t p = row_begin * ow; p < last; p += batch) {
        const ptrdiff_t count = last - p < batch ? last - p : batch;
        if (direct && kp == k) {
            copy_unsigned(scratch, c->input + p * k, count * k);
        } else if (direct) {
            for (ptrdiff_t i = 0; i < count; i++) copy_unsigned(scratch + i * kp, c->input + (p + i) * k, k);
        } else {
            build_windows(c, p / ow, p % ow, count, kp, scratch);
        }
        gemm_rows(scratch, kp, c->weights, blocks, c->bias, rq, &consts, c->output + p * co, co, count);
    }
}

#undef PARLA_TILE_PIXELS

#endif
