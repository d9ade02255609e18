// The AVX2 int8 MUL (see CParlaQS8.h and docs/int8-kernels.md); the shared helpers are in qs8_x86.h.
#include "qs8_x86.h"

#if defined(__x86_64__)

/// Loads `lanes` (1...8) int8 values sign-extended to int32 (the rest 0).
PARLA_AVX2_INLINE __m256i load_int8x8(const int8_t *p, ptrdiff_t lanes) {
    if (lanes >= 8) return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)p));
    int8_t t[8] = {0};
    memcpy(t, p, (size_t)lanes);
    return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)t));
}

/// The MUL loop; `simple` (a literal at each call, so each call is compiled on its own) says the shift is <= 0 and
/// the multiplier is not INT32_MIN, so MBQM needs no left shift and no saturation fix (`mbqm8_right`).
PARLA_AVX2_INLINE void mul_loop(const int8_t *a, const int8_t *b, int8_t *out, ptrdiff_t count, ptrdiff_t period,
                                const parla_qs8_mul *p, const int simple) {
    const __m256i o1 = _mm256_set1_epi32(-p->input1_zero_point), o2 = _mm256_set1_epi32(-p->input2_zero_point);
    const __m256i oo = _mm256_set1_epi32(p->output_zero_point), m = _mm256_set1_epi32(p->multiplier);
    const __m256i left = _mm256_set1_epi32(p->shift > 0 ? p->shift : 0);
    const __m256i right = _mm256_set1_epi32(p->shift > 0 ? 0 : -p->shift);
    const __m256i minimum = _mm256_set1_epi32(p->activation_min), maximum = _mm256_set1_epi32(p->activation_max);
    for (ptrdiff_t start = 0; start < count; start += period) {
        const int8_t *x = a + start;
        int8_t *y = out + start;
        for (ptrdiff_t c = 0; c < period; c += 8) {
            const ptrdiff_t lanes = period - c < 8 ? period - c : 8;
            __m256i product = _mm256_mullo_epi32(_mm256_add_epi32(load_int8x8(x + c, lanes), o1),
                                                 _mm256_add_epi32(load_int8x8(b + c, lanes), o2));
            __m256i q = _mm256_add_epi32(simple ? mbqm8_right(product, m, right) : mbqm8(product, m, left, right), oo);
            store8(y + c, _mm256_min_epi32(_mm256_max_epi32(q, minimum), maximum), lanes);
        }
    }
}

PARLA_AVX2 void parla_qs8_mul_avx2(const int8_t *a, const int8_t *b, int8_t *out, ptrdiff_t count, ptrdiff_t period,
                                   const parla_qs8_mul *p) {
    if (p->shift <= 0 && p->multiplier != INT32_MIN) {
        mul_loop(a, b, out, count, period, p, 1);
    } else {
        mul_loop(a, b, out, count, period, p, 0);
    }
}

#endif
