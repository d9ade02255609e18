// The AVX2 int8 MUL (see CParlaQS8.h and docs/int8-kernels.md); the shared helpers are in qs8_x86.h.
#include "qs8_x86.h"

#if defined(__x86_64__)
#include <stdlib.h>

/// Loads `lanes` (1...8) int8 values sign-extended to int32 (the rest 0).
PARLA_AVX2_INLINE __m256i load_int8x8(const int8_t *p, ptrdiff_t lanes) {
    if (lanes >= 8) return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)p));
    int8_t t[8] = {0};
    memcpy(t, p, (size_t)lanes);
    return _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)t));
}

/// The MUL loop over `count` values; `gate` holds b - input2_zero_point as int32, indexed by `channel`, which
/// runs through 0...period-1 and continues past the end (`gate` holds period + 8 values, repeated), so 8 lanes of
/// any channel are one load. `simple` (a literal at each call, so each call is compiled on its own) says the
/// shift is <= 0 and the multiplier is not INT32_MIN, so MBQM needs no left shift and no saturation fix.
PARLA_AVX2_INLINE void mul_loop(const int8_t *a, const int32_t *gate, int8_t *out, ptrdiff_t count, ptrdiff_t period,
                                const parla_qs8_mul *p, const int simple) {
    const __m256i o1 = _mm256_set1_epi32(-p->input1_zero_point);
    const __m256i oo = _mm256_set1_epi32(p->output_zero_point), m = _mm256_set1_epi32(p->multiplier);
    const __m256i left = _mm256_set1_epi32(p->shift > 0 ? p->shift : 0);
    const __m256i right = _mm256_set1_epi32(p->shift > 0 ? 0 : -p->shift);
    const __m256i minimum = _mm256_set1_epi32(p->activation_min), maximum = _mm256_set1_epi32(p->activation_max);
    ptrdiff_t channel = 0;
    for (ptrdiff_t i = 0; i < count; i += 8) {
        const ptrdiff_t lanes = count - i < 8 ? count - i : 8;
        __m256i product = _mm256_mullo_epi32(_mm256_add_epi32(load_int8x8(a + i, lanes), o1), load8(gate + channel));
        __m256i q = _mm256_add_epi32(simple ? mbqm8_right(product, m, right) : mbqm8(product, m, left, right), oo);
        store8(out + i, _mm256_min_epi32(_mm256_max_epi32(q, minimum), maximum), lanes);
        channel += 8;
        while (channel >= period) channel -= period;
    }
}

/// A per-channel b over many pixels: out depends only on (channel, a), so the 256 results of each channel are
/// computed once with mul_loop (exact by construction) and every value is looked up (`table[c·256 + (uint8)a]`),
/// about 3 scalar instructions a byte instead of the 8-lane arithmetic. Worth it from `tableMinimumPixels` pixels
/// (the table costs as much as 256 pixels).
enum { tableMinimumPixels = 512 };

PARLA_AVX2 static void mul_by_table(const int8_t *a, const int8_t *b, int8_t *out, ptrdiff_t count, ptrdiff_t period,
                                    const parla_qs8_mul *p) {
    int8_t local[64 * 256];
    int8_t *table = period <= 64 ? local : (int8_t *)malloc((size_t)period * 256);
    if (!table) abort();
    int8_t values[256];
    for (int v = 0; v < 256; v++) values[v] = (int8_t)(uint8_t)v;
    const int simple = p->shift <= 0 && p->multiplier != INT32_MIN;
    for (ptrdiff_t c = 0; c < period; c++) {
        int32_t gate[9];
        for (int k = 0; k < 9; k++) gate[k] = (int32_t)b[c] - p->input2_zero_point;
        if (simple) {
            mul_loop(values, gate, table + c * 256, 256, 1, p, 1);
        } else {
            mul_loop(values, gate, table + c * 256, 256, 1, p, 0);
        }
    }
    for (ptrdiff_t start = 0; start < count; start += period) {
        const uint8_t *x = (const uint8_t *)a + start;
        int8_t *y = out + start;
        ptrdiff_t c = 0;
        // 8 channels a step: 8 byte loads and lookups into one 64-bit store.
        for (; c + 8 <= period; c += 8) {
            const int8_t *t = table + c * 256;
            uint64_t word = 0;
            for (int j = 0; j < 8; j++) word |= (uint64_t)(uint8_t)t[j * 256 + x[c + j]] << (8 * j);
            memcpy(y + c, &word, 8);
        }
#pragma clang loop vectorize(disable)
        for (; c < period; c++) y[c] = table[c * 256 + x[c]];
    }
    if (table != local) free(table);
}

PARLA_AVX2 void parla_qs8_mul_avx2(const int8_t *a, const int8_t *b, int8_t *out, ptrdiff_t count, ptrdiff_t period,
                                   const parla_qs8_mul *p) {
    if (period < count && count / period >= tableMinimumPixels) {
        mul_by_table(a, b, out, count, period, p);
        return;
    }
    // A full-size b (period = count) goes in blocks of 1024 values with their own gate.
    const ptrdiff_t block = period < count ? period : (count < 1024 ? count : 1024);
    int32_t local[1024 + 8];
    int32_t *gate = block <= 1024 ? local : (int32_t *)malloc((size_t)(block + 8) * sizeof(int32_t));
    if (!gate) abort();
    const int simple = p->shift <= 0 && p->multiplier != INT32_MIN;
    for (ptrdiff_t start = 0; start < count; start += block) {
        const ptrdiff_t n = count - start < block ? count - start : block;
        const int8_t *g = period < count ? b : b + start;
        for (ptrdiff_t k = 0; k < n + 8; k++) gate[k] = (int32_t)g[k % n] - p->input2_zero_point;
        const ptrdiff_t values = period < count ? count : n;
        if (simple) {
            mul_loop(a + start, gate, out + start, values, n, p, 1);
        } else {
            mul_loop(a + start, gate, out + start, values, n, p, 0);
        }
        if (period < count) break;
    }
    if (gate != local) free(gate);
}

#endif
