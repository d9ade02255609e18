// The AVX2 256-entry int8 table lookup (see CParlaQS8.h and docs/int8-kernels.md).
#include "qs8_x86.h"

#if defined(__x86_64__)

// vpshufb looks up 16-byte tables: the 256 entries are 16 such tables T_k (indices 16k...16k+15), walked with the
// index u = x + 128 stepping down by 16. vpshufb gives T[u & 15] when bit 7 of its index is clear and 0 when set,
// so table k is XOR-ed in while u - 16k is a byte in 0...127; the tables are stored as differences so the XOR of
// all that were hit telescopes to T_{u >> 4}:
//   V_0 = T_0, V_k = T_{k-1} ^ T_k (k = 1...7), V_k = T_{k-1} ^ T_k ^ V_{k-8} (k = 8...15),
// with wrapping subtraction for steps 1...8 and signed saturating subtraction for 9...15.
// u < 128: steps 0...u>>4 hit (u - 16k wraps to 144...255 beyond), 8...15 stay negative: T_0 ^ ... telescopes
// to T_{u>>4}. u >= 128: steps J+1...7 hit with J = (u - 128) >> 4 (T_J ^ T_7), step 8 (T_7 ^ T_8 ^ T_0) and steps
// 9...u>>4 (T_8 ^ T_{u>>4} ^ T_0 ^ T_{(u>>4)-8}); with (u>>4) - 8 = J everything but T_{u>>4} cancels.
// (The scheme of XNNPACK's x8-lut AVX2 kernel.)

PARLA_AVX2 void parla_qs8_lookup_avx2(const int8_t *in, int8_t *out, ptrdiff_t count, const int8_t *table) {
    __m256i t[16], v[16];
    for (int k = 0; k < 16; k++) {
        t[k] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)(table + 16 * k)));
    }
    v[0] = t[0];
    for (int k = 1; k < 8; k++) v[k] = _mm256_xor_si256(t[k - 1], t[k]);
    for (int k = 8; k < 16; k++) v[k] = _mm256_xor_si256(_mm256_xor_si256(t[k - 1], t[k]), v[k - 8]);
    const __m256i sign = _mm256_set1_epi8((char)0x80), step = _mm256_set1_epi8(16);
    for (ptrdiff_t i = 0; i < count; i += 32) {
        const ptrdiff_t lanes = count - i < 32 ? count - i : 32;
        __m256i x;
        int8_t tmp[32] = {0};
        if (lanes == 32) {
            x = _mm256_loadu_si256((const __m256i *)(const void *)(in + i));
        } else {
            memcpy(tmp, in + i, (size_t)lanes);
            x = _mm256_loadu_si256((const __m256i *)(const void *)tmp);
        }
        __m256i u = _mm256_xor_si256(x, sign);
        __m256i y = _mm256_shuffle_epi8(v[0], u);
        for (int k = 1; k <= 8; k++) {
            u = _mm256_sub_epi8(u, step);
            y = _mm256_xor_si256(y, _mm256_shuffle_epi8(v[k], u));
        }
        for (int k = 9; k < 16; k++) {
            u = _mm256_subs_epi8(u, step);
            y = _mm256_xor_si256(y, _mm256_shuffle_epi8(v[k], u));
        }
        if (lanes == 32) {
            _mm256_storeu_si256((__m256i *)(void *)(out + i), y);
        } else {
            _mm256_storeu_si256((__m256i *)(void *)tmp, y);
            memcpy(out + i, tmp, (size_t)lanes);
        }
    }
}

// With VBMI the 256 entries are four ZMM registers: vpermi2b on the index's low 7 bits reads entries 0...127 (inputs
// -128...-1) from the first two and 128...255 (inputs 0...127) from the last two, and the input's sign picks one.
__attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vbmi"))) void
parla_qs8_lookup_avx512vbmi(const int8_t *in, int8_t *out, ptrdiff_t count, const int8_t *table) {
    const __m512i t0 = _mm512_loadu_si512(table), t1 = _mm512_loadu_si512(table + 64);
    const __m512i t2 = _mm512_loadu_si512(table + 128), t3 = _mm512_loadu_si512(table + 192);
    for (ptrdiff_t i = 0; i < count; i += 64) {
        const ptrdiff_t lanes = count - i < 64 ? count - i : 64;
        const __mmask64 valid = lanes == 64 ? ~(__mmask64)0 : (((__mmask64)1 << lanes) - 1);
        __m512i x = _mm512_maskz_loadu_epi8(valid, in + i);
        __m512i negative = _mm512_permutex2var_epi8(t0, x, t1), positive = _mm512_permutex2var_epi8(t2, x, t3);
        _mm512_mask_storeu_epi8(out + i, valid, _mm512_mask_blend_epi8(_mm512_movepi8_mask(x), positive, negative));
    }
}

#endif
