// The AVX2 fp32 -> int8 quantize (see CParlaQS8.h and QuantizedConversion.quantizeFast); the shared helpers are in
// qs8_x86.h.
#include "qs8_x86.h"

#if defined(__x86_64__)

// QuantizedConversion.quantizeFast's steps in 8 lanes: a = min(|x / scale|, 512) (vminps gives 512 for NaN, which
// the ordered mask zeroes below), a + 1.5*2^23 rounds to the nearest integer (ties to even) in its low mantissa
// bits, a tie rounded down (a - r == 0.5) gets one more step up, NaN lanes become 0, the sign goes back, the zero
// point is added, and the two saturating packs of store8 are the clamp to -128...127 (|v| <= 640).
PARLA_AVX2 void parla_qs8_quantize_avx2(const float *x, int8_t *y, ptrdiff_t count, float scale, int32_t zero_point) {
    const __m256 s = _mm256_set1_ps(scale), high = _mm256_set1_ps(512.0f), magic = _mm256_set1_ps(12582912.0f);
    const __m256 half = _mm256_set1_ps(0.5f), magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    const __m256i magic_bits = _mm256_set1_epi32(0x4B400000), zp = _mm256_set1_epi32(zero_point);
    for (ptrdiff_t i = 0; i < count; i += 8) {
        const ptrdiff_t lanes = count - i < 8 ? count - i : 8;
        __m256 v;
        if (lanes == 8) {
            v = _mm256_loadu_ps(x + i);
        } else {
            float t[8] = {0};
            memcpy(t, x + i, (size_t)lanes * sizeof(float));
            v = _mm256_loadu_ps(t);
        }
        __m256 q = _mm256_div_ps(v, s);
        __m256 a = _mm256_min_ps(_mm256_and_ps(q, magnitude), high);
        __m256 sum = _mm256_add_ps(a, magic);
        __m256i tie = _mm256_castps_si256(_mm256_cmp_ps(_mm256_sub_ps(a, _mm256_sub_ps(sum, magic)), half, _CMP_EQ_OQ));
        __m256i ordered = _mm256_castps_si256(_mm256_cmp_ps(q, q, _CMP_ORD_Q));
        __m256i rounded = _mm256_and_si256(_mm256_sub_epi32(_mm256_sub_epi32(_mm256_castps_si256(sum), magic_bits), tie),
                                           ordered);
        __m256i sign = _mm256_srai_epi32(_mm256_castps_si256(q), 31);
        store8(y + i, _mm256_add_epi32(_mm256_sub_epi32(_mm256_xor_si256(rounded, sign), sign), zp), lanes);
    }
}

// int8 -> int32 -> float is exact, so the one multiply is the reference's only rounding.
PARLA_AVX2 void parla_qs8_dequantize_avx2(const int8_t *x, float *y, ptrdiff_t count, float scale, int32_t zero_point) {
    const __m256 s = _mm256_set1_ps(scale);
    const __m256i zp = _mm256_set1_epi32(zero_point);
    ptrdiff_t i = 0;
    for (; i + 32 <= count; i += 32) {
        for (int k = 0; k < 4; k++) {
            __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(x + i + 8 * k)));
            _mm256_storeu_ps(y + i + 8 * k, _mm256_mul_ps(s, _mm256_cvtepi32_ps(_mm256_sub_epi32(q, zp))));
        }
    }
    for (; i < count; i++) y[i] = scale * (float)((int32_t)x[i] - zero_point);
}

#endif
