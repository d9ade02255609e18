// The AVX2 int8 ADD (with fused PReLU) and PReLU (see CParlaQS8.h and docs/int8-kernels.md); the shared helpers are in qs8_x86.h.
#include "qs8_x86.h"

#if defined(__x86_64__)

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
