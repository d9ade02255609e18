// Element-wise fp32 ops with AVX2 + FMA (see CParlaF32.h). Swift without -mavx2 compiles SIMD8<Float> to pairs of
// SSE operations and its lane-wise compares and selects to longer sequences; here each step is one YMM instruction.
#include "CParlaF32.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define PARLA_FMA __attribute__((target("avx2,fma")))
#define PARLA_FMA_INLINE static inline __attribute__((target("avx2,fma"), always_inline))

/// 1 / (1 + e^-x) for 8 lanes: e^v with v = -x clamped to [-87, 87], k = round-to-nearest-even(v·log2 e) by adding
/// and subtracting 1.5·2^23, r = v - k·ln2 (ln2 split so k·ln2hi is exact), the degree-6 Cephes polynomial, and
/// 2^k from the integer in the low mantissa bits of the shifted value.
PARLA_FMA_INLINE __m256 logistic8(__m256 x) {
    const __m256 magic = _mm256_set1_ps(12582912.0f);  // 1.5·2^23
    __m256 v = _mm256_min_ps(_mm256_max_ps(_mm256_sub_ps(_mm256_setzero_ps(), x), _mm256_set1_ps(-87.0f)),
                             _mm256_set1_ps(87.0f));
    __m256 shifted = _mm256_fmadd_ps(v, _mm256_set1_ps(1.44269504f), magic);
    __m256 k = _mm256_sub_ps(shifted, magic);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), v);
    r = _mm256_fmadd_ps(k, _mm256_set1_ps(2.1219444e-4f), r);
    __m256 p = _mm256_set1_ps(1.98756915e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.39819995e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665796e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.66666555e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001e-1f));
    __m256 er = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1.0f));
    __m256i kBits = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(0x4B400000));
    __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(kBits, _mm256_set1_epi32(127)), 23));
    return _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(er, scale, _mm256_set1_ps(1.0f)));
}

PARLA_FMA void parla_f32_logistic_avx2(const float *input, float *output, ptrdiff_t count) {
    ptrdiff_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m256 a = logistic8(_mm256_loadu_ps(input + i)), b = logistic8(_mm256_loadu_ps(input + i + 8));
        _mm256_storeu_ps(output + i, a);
        _mm256_storeu_ps(output + i + 8, b);
    }
    for (; i < count; i += 8) {
        ptrdiff_t lanes = count - i < 8 ? count - i : 8;
        float t[8] = {0};
        memcpy(t, input + i, (size_t)lanes * sizeof(float));
        _mm256_storeu_ps(t, logistic8(_mm256_loadu_ps(t)));
        memcpy(output + i, t, (size_t)lanes * sizeof(float));
    }
}
#endif
