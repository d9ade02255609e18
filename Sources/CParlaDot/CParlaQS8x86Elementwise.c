// The AVX2 int8 ADD (with fused PReLU) and PReLU (see CParlaQS8.h and docs/int8-kernels.md); the shared helpers are in qs8_x86.h.
#include "qs8_x86.h"

#if defined(__x86_64__)

// MARK: ADD

PARLA_AVX2_INLINE __m256i splat_left(int32_t shift) { return _mm256_set1_epi32(shift > 0 ? shift : 0); }
PARLA_AVX2_INLINE __m256i splat_right(int32_t shift) { return _mm256_set1_epi32(shift > 0 ? 0 : -shift); }

/// The constants of one input's scaling `rdbpot(SRDHM((x + offset) << 20, m), s)` for m >= 0 and s <= 0
/// (`QuantizedAdd.Parameters` guarantees both): with v = x + offset, SRDHM is ⌊(v·m + 2^10) / 2^11⌋ and, splitting
/// m = 2^11·H + L, v·H + ⌊(v·L + 2^10) / 2^11⌋; the rounding divide by 2^r (r = −s) with ties away from zero is
/// ⌊(h + 2^(r−1) − [h < 0]) / 2^r⌋, and nested floors of integer divisions merge, so for r ≥ 1
///   f(x) = (x·H + (off·H + 2^(r−1)) + ((x·L + off·L + 2^10) >> 11) − [x < −off]) >> r
/// (h < 0 only where v < 0, and where v < 0 but h = 0 both roundings give 0); for r = 0 without the rounding terms.
/// The offset folds into the two constants, so one input costs 2 vpmulld, 3 vpaddd, 2 vpsrad, a vpcmpgtd and
/// a vpaddd. An input with m = 2^30, s = 0 (the larger-scale input: its multiplier is exactly 1/2) is (x + off) << 19.
typedef struct {
    __m256i high, low, k_high, k_low, minus_offset, right;
    int rounding;
} add_input;

PARLA_AVX2_INLINE add_input add_input_load(int32_t offset, int32_t m, int32_t shift) {
    add_input in;
    const int32_t h = m >> 11, l = m & 2047, r = -shift;
    in.high = _mm256_set1_epi32(h);
    in.low = _mm256_set1_epi32(l);
    in.k_high = _mm256_set1_epi32(offset * h + (r > 0 ? (int32_t)1 << (r - 1) : 0));
    in.k_low = _mm256_set1_epi32(offset * l + (1 << 10));
    in.minus_offset = _mm256_set1_epi32(-offset);
    in.right = _mm256_set1_epi32(r);
    in.rounding = r > 0;
    return in;
}

/// One input of 8 int8 values scaled to the common scale (`plain`: m = 2^30, s = 0).
PARLA_AVX2_INLINE __m256i add_input_scale(__m128i x8, const add_input *in, __m256i plain_offset, const int plain) {
    __m256i x = _mm256_cvtepi8_epi32(x8);
    if (plain) return _mm256_slli_epi32(_mm256_add_epi32(x, plain_offset), 19);
    __m256i t = _mm256_srai_epi32(_mm256_add_epi32(_mm256_mullo_epi32(x, in->low), in->k_low), 11);
    __m256i u = _mm256_add_epi32(_mm256_add_epi32(_mm256_mullo_epi32(x, in->high), in->k_high), t);
    if (!in->rounding) return u;
    u = _mm256_add_epi32(u, _mm256_cmpgt_epi32(in->minus_offset, x));
    return _mm256_srav_epi32(u, in->right);
}

/// Whether input `which` (1 or 2) is the plain one: multiplier exactly 1/2 and no shift, i.e. (x + offset) << 19.
static inline int add_input_plain(const parla_qs8_add *p, int which) {
    return which == 1 ? p->input1_multiplier == (1 << 30) && p->input1_shift == 0
                      : p->input2_multiplier == (1 << 30) && p->input2_shift == 0;
}

/// `p` with input 1 the plain one where only input 2 is (the sum is symmetric in the inputs); returns 1 where the
/// inputs traded places, so the caller swaps its `a` and `b`.
static inline int add_plain_first(const parla_qs8_add *p, parla_qs8_add *q) {
    *q = *p;
    if (add_input_plain(p, 1) || !add_input_plain(p, 2)) return 0;
    q->input1_offset = p->input2_offset;
    q->input1_multiplier = p->input2_multiplier;
    q->input1_shift = p->input2_shift;
    q->input2_offset = p->input1_offset;
    q->input2_multiplier = p->input1_multiplier;
    q->input2_shift = p->input1_shift;
    return 1;
}

/// Whether the output multiplier and every PReLU multiplier are simple (no left shift, not INT32_MIN) with right
/// shifts of at most 31: the condition of the AVX-512 loops' rounding constants.
static inline int add_shifts_fit31(const parla_qs8_add *p) {
    if (p->output_multiplier == INT32_MIN || p->output_shift > 0 || p->output_shift < -31) return 0;
    for (ptrdiff_t c = 0; p->negative_multipliers && c < p->channels; c++) {
        const int32_t s = p->negative_shifts[c];
        if (p->negative_multipliers[c] == INT32_MIN || s > 0 || s < -31) return 0;
    }
    return 1;
}

/// The ADD loop; `simple` (a literal at each call, so each call is compiled on its own) says no multiplier is
/// INT32_MIN and no output shift is positive; `plain1` that input 1 is the plain `<< 19` one.
PARLA_AVX2_INLINE void add_loop(const int8_t *a, const int8_t *b, int8_t *out, ptrdiff_t count, const parla_qs8_add *p,
                                const int simple, const int plain1) {
    const __m256i mo = _mm256_set1_epi32(p->output_multiplier), lo = splat_left(p->output_shift), so = splat_right(p->output_shift);
    const __m256i oo = _mm256_set1_epi32(p->output_offset);
    const __m256i minimum = _mm256_set1_epi32(p->activation_min), maximum = _mm256_set1_epi32(p->activation_max);
    const add_input in1 = add_input_load(p->input1_offset, p->input1_multiplier, p->input1_shift);
    const add_input in2 = add_input_load(p->input2_offset, p->input2_multiplier, p->input2_shift);
    const __m256i plain_offset = _mm256_set1_epi32(p->input1_offset);
#define PARLA_MBQM(x, m, l, r) (simple ? mbqm8_right(x, m, r) : mbqm8(x, m, l, r))
    // Sums of 8 values.
#define PARLA_ADD_SUM(xa, xb) _mm256_add_epi32(add_input_scale(xa, &in1, plain_offset, plain1), add_input_scale(xb, &in2, plain_offset, 0))
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
    // Fused PReLU: a negative sum takes its channel's output multiplier and shift. Per channel (padded to 8): the
    // negative multiplier, left and right shift, and (simple) the rounding divide's mask 2^right − 1 and half mask >> 1.
    const ptrdiff_t C = p->channels, cp = (C + 7) / 8 * 8;
    int32_t rows[5 * cp];
    int32_t *nm = rows, *nl = rows + cp, *nr = rows + 2 * cp, *nmask = rows + 3 * cp, *nhalf = rows + 4 * cp;
    for (ptrdiff_t c = 0; c < cp; c++) {
        const int32_t m = c < C ? p->negative_multipliers[c] : 0, s = c < C ? p->negative_shifts[c] : 0;
        const int32_t right = s > 0 ? 0 : -s;
        nm[c] = m;
        nl[c] = s > 0 ? s : 0;
        nr[c] = right;
        nmask[c] = right >= 32 ? -1 : (int32_t)((1u << right) - 1u);
        nhalf[c] = nmask[c] >> 1;
    }
    const int32_t out_right = p->output_shift > 0 ? 0 : -p->output_shift;
    const int32_t out_mask = out_right >= 32 ? -1 : (int32_t)((1u << out_right) - 1u);
    const __m256i omask = _mm256_set1_epi32(out_mask), ohalf = _mm256_set1_epi32(out_mask >> 1);
    const __m256i round = _mm256_set1_epi64x((int64_t)1 << 30);
    for (ptrdiff_t pixel = 0; pixel < count; pixel += C) {
        for (ptrdiff_t c = 0; c < C; c += 8) {
            const ptrdiff_t lanes = C - c < 8 ? C - c : 8;
            __m128i xa, xb;
            if (lanes == 8) {
                xa = _mm_loadl_epi64((const __m128i *)(const void *)(a + pixel + c));
                xb = _mm_loadl_epi64((const __m128i *)(const void *)(b + pixel + c));
            } else {
                int8_t ta[8] = {0}, tb[8] = {0};
                memcpy(ta, a + pixel + c, (size_t)lanes);
                memcpy(tb, b + pixel + c, (size_t)lanes);
                xa = _mm_loadl_epi64((const __m128i *)(const void *)ta);
                xb = _mm_loadl_epi64((const __m128i *)(const void *)tb);
            }
            __m256i v = PARLA_ADD_SUM(xa, xb);
            __m256i negative = _mm256_srai_epi32(v, 31);
            __m256i m = _mm256_blendv_epi8(mo, load8(nm + c), negative);
            __m256i right = _mm256_blendv_epi8(so, load8(nr + c), negative);
            __m256i q;
            if (simple) {
                // mbqm8_right with the rounding divide's masks from the rows.
                __m256i mask = _mm256_blendv_epi8(omask, load8(nmask + c), negative);
                __m256i half = _mm256_blendv_epi8(ohalf, load8(nhalf + c), negative);
                __m256i even = _mm256_add_epi64(_mm256_mul_epi32(v, m), round);
                __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(v, 32), _mm256_srli_epi64(m, 32)), round);
                __m256i h = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
                __m256i threshold = _mm256_sub_epi32(half, _mm256_srai_epi32(h, 31));
                __m256i above = _mm256_cmpgt_epi32(_mm256_and_si256(h, mask), threshold);
                q = _mm256_sub_epi32(_mm256_srav_epi32(h, right), above);
            } else {
                __m256i left = _mm256_blendv_epi8(lo, load8(nl + c), negative);
                q = mbqm8(v, m, left, right);
            }
            q = _mm256_add_epi32(q, oo);
            store8(out + pixel + c, _mm256_min_epi32(_mm256_max_epi32(q, minimum), maximum), lanes);
        }
    }
#undef PARLA_ADD_SUM
#undef PARLA_MBQM
}

PARLA_AVX2_INLINE void add(const int8_t *a, const int8_t *b, int8_t *out, ptrdiff_t count, const parla_qs8_add *p) {
    int simple = p->output_multiplier != INT32_MIN && p->output_shift <= 0;
    for (ptrdiff_t c = 0; p->negative_multipliers && c < p->channels; c++) {
        if (p->negative_multipliers[c] == INT32_MIN || p->negative_shifts[c] > 0) simple = 0;
    }
    parla_qs8_add q;
    if (add_plain_first(p, &q)) {
        const int8_t *t = a;
        a = b;
        b = t;
    }
    const int plain1 = add_input_plain(&q, 1), plain2 = add_input_plain(&q, 2);
    if (simple) {
        if (plain1 || plain2) add_loop(a, b, out, count, &q, 1, 1); else add_loop(a, b, out, count, &q, 1, 0);
    } else {
        if (plain1 || plain2) add_loop(a, b, out, count, &q, 0, 1); else add_loop(a, b, out, count, &q, 0, 0);
    }
}

#define PARLA_AVX512VL_INLINE static inline __attribute__((target("avx2,avx512f,avx512bw,avx512vl"), always_inline))

/// The fused-PReLU loop with AVX-512 VL on 8 lanes, for `simple` parameters whose right shifts are all at most 31
/// (`add_shifts_fit31`). The rounding divide by 2^r with ties away from zero is ⌊(h + 2^(r−1) − [h < 0]) / 2^r⌋
/// (r ≥ 1; h itself for r = 0), and |h| ≤ 2^28 (|v| ≤ 2^28, |m| < 2^31) so h + 2^(r−1) cannot overflow. h < 0 only
/// where v and the branch's multiplier m have opposite signs, and where they do but h = 0 both roundings give 0,
/// so [h < 0] folds into a per-branch constant: round = 2^(r−1) − [v < 0 ? m ≥ 0 : m < 0] (0 for r = 0).
/// Per 8 values: the sign of the sum into a mask register (vpcmpgtd), the multiplier, right shift and rounding
/// constant picked with vpblendmd from the per-channel rows, SRDHM as before, vpaddd, vpsravd, vpaddd of the output
/// offset, and vpmovsdb (signed saturation to int8) instead of vpackssdw + vpacksswb; `full` (a literal) says the
/// activation range is all of int8, else a byte vpmaxsb/vpminsb clamp follows. A last partial group of channels
/// uses masked loads and a masked store.
PARLA_AVX512VL_INLINE void add_prelu_loop512(const int8_t *a, const int8_t *b, int8_t *out, ptrdiff_t count,
                                             const parla_qs8_add *p, const int plain1, const int full) {
    const add_input in1 = add_input_load(p->input1_offset, p->input1_multiplier, p->input1_shift);
    const add_input in2 = add_input_load(p->input2_offset, p->input2_multiplier, p->input2_shift);
    const __m256i plain_offset = _mm256_set1_epi32(p->input1_offset);
    const ptrdiff_t C = p->channels, cp = (C + 7) / 8 * 8;
    int32_t rows[3 * cp];
    int32_t *nm = rows, *nr = rows + cp, *nround = rows + 2 * cp;
    for (ptrdiff_t c = 0; c < cp; c++) {
        const int32_t m = c < C ? p->negative_multipliers[c] : 0, right = c < C ? -p->negative_shifts[c] : 0;
        nm[c] = m;
        nr[c] = right;
        nround[c] = right > 0 ? ((int32_t)1 << (right - 1)) - (m >= 0) : 0;
    }
    const int32_t out_right = -p->output_shift, mo_ = p->output_multiplier;
    const __m256i mo = _mm256_set1_epi32(mo_), so = _mm256_set1_epi32(out_right);
    const __m256i oround = _mm256_set1_epi32(out_right > 0 ? ((int32_t)1 << (out_right - 1)) - (mo_ < 0) : 0);
    const __m256i oo = _mm256_set1_epi32(p->output_offset);
    const __m128i minimum = _mm_set1_epi8((char)p->activation_min), maximum = _mm_set1_epi8((char)p->activation_max);
    const __m256i round = _mm256_set1_epi64x((int64_t)1 << 30);
    for (ptrdiff_t pixel = 0; pixel < count; pixel += C) {
        for (ptrdiff_t c = 0; c < C; c += 8) {
            const ptrdiff_t lanes = C - c < 8 ? C - c : 8;
            __m128i xa, xb;
            if (lanes == 8) {
                xa = _mm_loadl_epi64((const __m128i *)(const void *)(a + pixel + c));
                xb = _mm_loadl_epi64((const __m128i *)(const void *)(b + pixel + c));
            } else {
                const __mmask16 k = (__mmask16)((1u << lanes) - 1u);
                xa = _mm_maskz_loadu_epi8(k, a + pixel + c);
                xb = _mm_maskz_loadu_epi8(k, b + pixel + c);
            }
            __m256i v = _mm256_add_epi32(add_input_scale(xa, &in1, plain_offset, plain1),
                                         add_input_scale(xb, &in2, plain_offset, 0));
            const __mmask8 negative = _mm256_cmpgt_epi32_mask(_mm256_setzero_si256(), v);
            __m256i m = _mm256_mask_blend_epi32(negative, mo, load8(nm + c));
            __m256i right = _mm256_mask_blend_epi32(negative, so, load8(nr + c));
            __m256i r = _mm256_mask_blend_epi32(negative, oround, load8(nround + c));
            __m256i even = _mm256_add_epi64(_mm256_mul_epi32(v, m), round);
            __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(v, 32), _mm256_srli_epi64(m, 32)), round);
            __m256i h = _mm256_blend_epi32(_mm256_srli_epi64(even, 31), _mm256_slli_epi64(odd, 1), 0xAA);
            __m256i q = _mm256_add_epi32(_mm256_srav_epi32(_mm256_add_epi32(h, r), right), oo);
            __m128i bytes = _mm256_cvtsepi32_epi8(q);
            if (!full) bytes = _mm_min_epi8(_mm_max_epi8(bytes, minimum), maximum);
            if (lanes == 8) {
                _mm_storel_epi64((__m128i *)(void *)(out + pixel + c), bytes);
            } else {
                _mm_mask_storeu_epi8(out + pixel + c, (__mmask16)((1u << lanes) - 1u), bytes);
            }
        }
    }
}

PARLA_AVX2 void parla_qs8_add_avx2(const int8_t *a, const int8_t *b, int8_t *out, ptrdiff_t count, const parla_qs8_add *p) {
    add(a, b, out, count, p);
}

PARLA_AVX512VL void parla_qs8_add_avx512(const int8_t *a, const int8_t *b, int8_t *out, ptrdiff_t count,
                                         const parla_qs8_add *p) {
    // add_prelu_loop512 takes fused PReLU parameters whose shifts fit its rounding constants.
    if (!p->negative_multipliers || !add_shifts_fit31(p)) {
        add(a, b, out, count, p);
        return;
    }
    parla_qs8_add q;
    if (add_plain_first(p, &q)) {
        const int8_t *t = a;
        a = b;
        b = t;
    }
    const int plain1 = add_input_plain(&q, 1), plain2 = add_input_plain(&q, 2);
    const int full = q.activation_min <= INT8_MIN && q.activation_max >= INT8_MAX;
    if (plain1 || plain2) {
        if (full) add_prelu_loop512(a, b, out, count, &q, 1, 1); else add_prelu_loop512(a, b, out, count, &q, 1, 0);
    } else {
        if (full) add_prelu_loop512(a, b, out, count, &q, 0, 1); else add_prelu_loop512(a, b, out, count, &q, 0, 0);
    }
}

// MARK: ADD with AVX-512 VBMI

#include <cpuid.h>

int parla_qs8_cpu_avx512vbmi(void) {
    if (!parla_qs8_cpu_avx512vnni()) return 0;
    unsigned a, b, c, d;
    __cpuid_count(7, 0, a, b, c, d);
    return (c & (1u << 1)) != 0;  // AVX512_VBMI
}

#define PARLA_VBMI_INLINE static inline __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vbmi"), always_inline))

/// 64 values of the ADD with the scaled input 2 looked up (see parla_qs8_add_avx512vbmi): `planes` are the 4 byte
/// planes of the 256-entry int32 table (twice input 2's term plus input 1's offset << 20), 4 ZMM each; `rows` the
/// per-channel negative multiplier, right shift and rounding constant from this block's first channel on (fused
/// PReLU only). The sum is kept doubled, 2v (|v| < 2^28, so 2v fits): then SRDHM(v, m) = ⌊(v·m + 2^30) / 2^31⌋ is
/// the high half of 2v·m + 2^31, where vpmuldq leaves it in the odd dwords, and one masked vpshufd moves the even
/// lanes' high halves down beside the odd ones (no shifts: those share the two shuffle pipes of Zen 4). The PReLU
/// rows are read with merge-masked loads, which keep the ALUs free (17 % faster than vpblendmd from memory).
/// The rounding constant of a branch with right shift `right` (0...31), 2^(right − 1) − [h < 0] (`negative`: the
/// branch's h = SRDHM(v, m) is ≤ 0), plus `offset`·2^right when the output offset is folded in: then
/// (h + constant) >> right is the rounded quotient plus the offset, one vpaddd less per 16 values.
static inline int64_t add_vbmi_rounding(int32_t right, int negative, int32_t offset) {
    return (right > 0 ? ((int64_t)1 << (right - 1)) - negative : 0) + (int64_t)offset * ((int64_t)1 << right);
}

/// Whether a folded rounding constant keeps h + constant in int32 (|h| ≤ |v| < 2^28).
static inline int add_vbmi_fits(int64_t constant) {
    const int64_t bound = ((int64_t)1 << 31) - ((int64_t)1 << 28) - 1;
    return constant <= bound && constant >= -bound;
}

/// Int32 values before the PReLU rows: [0] is 1 where the rows' rounding constants have the output offset folded in.
enum { add_vbmi_row_header = 16 };

/// Whether the output's rounding constants of both signs fit with the output offset folded in.
static inline int add_vbmi_output_folds(const parla_qs8_add *q) {
    const int32_t right = -q->output_shift;
    return add_vbmi_fits(add_vbmi_rounding(right, 0, q->output_offset)) &&
           add_vbmi_fits(add_vbmi_rounding(right, 1, q->output_offset));
}

PARLA_VBMI_INLINE void add_block_vbmi(const int8_t *a, const int8_t *b, int8_t *out, const __m512i planes[16],
                                      const int32_t *nm, const int32_t *nr, const int32_t *nround, __m512i mo,
                                      __m512i so, __m512i oround, __m512i oround_negative, __m512i oo,
                                      __m128i minimum, __m128i maximum, const int prelu, const int relu,
                                      const int lower, const int upper, const int folded) {
    // Dword 4L + k of the permuted b is dword 4k + L of b: after the byte and word unpacks below, which work
    // within 128-bit lanes, ZMM k holds the table entries of b[16k ... 16k + 15] in order.
    const __m512i transpose = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
    const __m512i index = _mm512_permutexvar_epi32(transpose, _mm512_loadu_si512((const void *)b));
    const __mmask64 high = _mm512_movepi8_mask(index);  // entries 128...255: bit 7 of the index
    __m512i p[4];
    for (int q = 0; q < 4; q++) {
        p[q] = _mm512_mask_blend_epi8(high, _mm512_permutex2var_epi8(planes[4 * q], index, planes[4 * q + 1]),
                                      _mm512_permutex2var_epi8(planes[4 * q + 2], index, planes[4 * q + 3]));
    }
    const __m512i w01lo = _mm512_unpacklo_epi8(p[0], p[1]), w01hi = _mm512_unpackhi_epi8(p[0], p[1]);
    // Input 1's term a << 20 is a·16 added to the high words (the low words are untouched, so no carry is lost).
    const __m512i xa = _mm512_permutexvar_epi32(transpose, _mm512_loadu_si512((const void *)a));
    const __m512i w23lo = _mm512_add_epi16(_mm512_unpacklo_epi8(p[2], p[3]),
                                           _mm512_srai_epi16(_mm512_unpacklo_epi8(_mm512_setzero_si512(), xa), 4));
    const __m512i w23hi = _mm512_add_epi16(_mm512_unpackhi_epi8(p[2], p[3]),
                                           _mm512_srai_epi16(_mm512_unpackhi_epi8(_mm512_setzero_si512(), xa), 4));
    __m512i term[4] = {_mm512_unpacklo_epi16(w01lo, w23lo), _mm512_unpackhi_epi16(w01lo, w23lo),
                       _mm512_unpacklo_epi16(w01hi, w23hi), _mm512_unpackhi_epi16(w01hi, w23hi)};
    const __m512i round = _mm512_set1_epi64((int64_t)1 << 31);
    for (int k = 0; k < 4; k++) {
        const __m512i v = term[k];
        const __mmask16 negative = relu ? 0 : _mm512_cmplt_epi32_mask(v, _mm512_setzero_si512());
        __m512i m = mo, right = so, r;
        if (prelu) {
            m = _mm512_mask_loadu_epi32(mo, negative, nm + 16 * k);
            right = _mm512_mask_loadu_epi32(so, negative, nr + 16 * k);
            r = _mm512_mask_loadu_epi32(oround, negative, nround + 16 * k);
        } else {
            r = relu ? oround : _mm512_mask_blend_epi32(negative, oround, oround_negative);
        }
        const __m512i even = _mm512_add_epi64(_mm512_mul_epi32(v, m), round);
        const __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_shuffle_epi32(v, _MM_PERM_DDBB),
                                                              _mm512_shuffle_epi32(m, _MM_PERM_DDBB)), round);
        const __m512i h = _mm512_mask_shuffle_epi32(odd, 0x5555, even, _MM_PERM_DDBB);
        __m512i q = _mm512_srav_epi32(_mm512_add_epi32(h, r), right);
        if (!folded) q = _mm512_add_epi32(q, oo);
        __m128i bytes = _mm512_cvtsepi32_epi8(q);
        if (lower) bytes = _mm_max_epi8(bytes, minimum);
        if (upper) bytes = _mm_min_epi8(bytes, maximum);
        _mm_storeu_si128((__m128i *)(void *)(out + 16 * k), bytes);
    }
}

PARLA_VBMI_INLINE void add_loop_vbmi(const int8_t *a, const int8_t *b, int8_t *out, ptrdiff_t count,
                                     const parla_qs8_add *p, const int8_t *table_planes, const int32_t *rows,
                                     const int prelu, const int relu, const int lower, const int upper,
                                     const int folded) {
    __m512i planes[16];
    for (int j = 0; j < 16; j++) planes[j] = _mm512_loadu_si512((const void *)(table_planes + 64 * j));
    const ptrdiff_t C = prelu ? p->channels : 1, extended = C + 64;
    rows += add_vbmi_row_header;
    const int32_t *nm = rows, *nr = prelu ? rows + extended : rows, *nround = prelu ? rows + 2 * extended : rows;
    const int32_t out_right = -p->output_shift, mo_ = p->output_multiplier;
    const __m512i mo = _mm512_set1_epi32(mo_), so = _mm512_set1_epi32(out_right), oo = _mm512_set1_epi32(p->output_offset);
    const __m512i oround = _mm512_set1_epi32((int32_t)add_vbmi_rounding(out_right, mo_ < 0, folded ? p->output_offset : 0));
    const __m512i oround_negative = _mm512_set1_epi32((int32_t)add_vbmi_rounding(out_right, mo_ >= 0, folded ? p->output_offset : 0));
    const __m128i minimum = _mm_set1_epi8((char)p->activation_min), maximum = _mm_set1_epi8((char)p->activation_max);
    const ptrdiff_t advance = 64 % C;
    ptrdiff_t channel = 0, i = 0;
    for (; i + 64 <= count; i += 64) {
        add_block_vbmi(a + i, b + i, out + i, planes, nm + channel, nr + channel, nround + channel, mo, so, oround,
                       oround_negative, oo, minimum, maximum, prelu, relu, lower, upper, folded);
        channel += advance;
        if (channel >= C) channel -= C;
    }
    if (i < count) {
        int8_t ta[64] = {0}, tb[64] = {0}, to[64];
        memcpy(ta, a + i, (size_t)(count - i));
        memcpy(tb, b + i, (size_t)(count - i));
        add_block_vbmi(ta, tb, to, planes, nm + channel, nr + channel, nround + channel, mo, so, oround,
                       oround_negative, oo, minimum, maximum, prelu, relu, lower, upper, folded);
        memcpy(out + i, to, (size_t)(count - i));
    }
}

/// The VBMI kernel's parameters `q`: `p` with input 1 the plain one (multiplier 1/2; `*swap` says the inputs
/// trade places). 0 where the kernel refuses `p`.
static int add_vbmi_order(const parla_qs8_add *p, parla_qs8_add *q, int *swap) {
    if (!add_shifts_fit31(p) || (!add_input_plain(p, 1) && !add_input_plain(p, 2))) return 0;
    *swap = add_plain_first(p, q);
    return 1;
}

__attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vbmi"))) int
parla_qs8_add_avx512vbmi_prepare(const parla_qs8_add *p, int8_t *planes, int32_t *rows) {
    parla_qs8_add q;
    int swap;
    if (!add_vbmi_order(p, &q, &swap)) return 0;
    // Input 2's scaled term for every byte (AVX2 arithmetic, bit-exact with the reference) plus input 1's
    // offset << 19, doubled, as 4 byte planes of 256.
    int32_t table[256];
    const add_input in2 = add_input_load(q.input2_offset, q.input2_multiplier, q.input2_shift);
    const int plain2 = add_input_plain(&q, 2);
    const __m256i plain_offset = _mm256_set1_epi32(q.input2_offset), offset1 = _mm256_set1_epi32(q.input1_offset * (1 << 19));
    int8_t bytes[256];
    for (int i = 0; i < 256; i++) bytes[i] = (int8_t)(uint8_t)i;
    for (int i = 0; i < 256; i += 8) {
        const __m128i x8 = _mm_loadl_epi64((const __m128i *)(const void *)(bytes + i));
        const __m256i t = plain2 ? add_input_scale(x8, &in2, plain_offset, 1) : add_input_scale(x8, &in2, plain_offset, 0);
        _mm256_storeu_si256((__m256i *)(void *)(table + i), _mm256_slli_epi32(_mm256_add_epi32(t, offset1), 1));
    }
    for (int plane = 0; plane < 4; plane++) {
        for (int i = 0; i < 256; i++) planes[256 * plane + i] = (int8_t)(uint8_t)((uint32_t)table[i] >> (8 * plane));
    }
    // Per-channel rows (fused PReLU) repeated past the last channel so that 64 values from any channel read on.
    // The output offset folds into the rounding constants where every one of them stays in range.
    if (q.negative_multipliers) {
        const ptrdiff_t C = q.channels, extended = C + 64;
        int folded = add_vbmi_output_folds(&q);
        for (ptrdiff_t c = 0; c < C; c++) {
            folded = folded && add_vbmi_fits(add_vbmi_rounding(-q.negative_shifts[c], q.negative_multipliers[c] >= 0, q.output_offset));
        }
        for (int j = 0; j < add_vbmi_row_header; j++) rows[j] = 0;
        rows[0] = folded;
        int32_t *nm = rows + add_vbmi_row_header, *nr = nm + extended, *nround = nm + 2 * extended;
        for (ptrdiff_t j = 0, c = 0; j < extended; j++, c = c + 1 == C ? 0 : c + 1) {
            const int32_t m = q.negative_multipliers[c], right = -q.negative_shifts[c];
            nm[j] = m;
            nr[j] = right;
            nround[j] = (int32_t)add_vbmi_rounding(right, m >= 0, folded ? q.output_offset : 0);
        }
    }
    return 1;
}

__attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512vbmi"))) int
parla_qs8_add_avx512vbmi(const int8_t *a, const int8_t *b, int8_t *out, ptrdiff_t count, const parla_qs8_add *p,
                         const int8_t *planes, const int32_t *rows) {
    static const int32_t no_rows[add_vbmi_row_header] = {0};
    parla_qs8_add q;
    int swap;
    if (!add_vbmi_order(p, &q, &swap) || (q.negative_multipliers && !rows)) return 0;
    if (!rows) rows = no_rows;
    if (swap) {
        const int8_t *t = a;
        a = b;
        b = t;
    }
    // vpmovsdb saturates to -128...127: a byte clamp only for a narrower activation range (`lower`, `upper`).
    const int lower = q.activation_min > INT8_MIN, upper = q.activation_max < INT8_MAX;
    // Where the lower bound (activation or int8) is at or above the output offset and the output multiplier is
    // positive, every negative sum's output oo + MBQM(v) ≤ oo is clamped to that bound whatever its rounding: those
    // lanes may take the rounding constant of non-negative sums, which saves the sign test and the blend (ReLU, and
    // without any clamp where ReLU's zero is the output's -128).
    const int relu = !q.negative_multipliers && q.output_multiplier > 0 &&
                     (q.activation_min > INT8_MIN ? q.activation_min : INT8_MIN) >= q.output_offset;
    const int folded = q.negative_multipliers ? rows[0] : add_vbmi_output_folds(&q);
#define PARLA_ADD_VBMI(prelu, relu, lower, upper)                                                                     \
    (folded ? add_loop_vbmi(a, b, out, count, &q, planes, rows, prelu, relu, lower, upper, 1)                         \
            : add_loop_vbmi(a, b, out, count, &q, planes, rows, prelu, relu, lower, upper, 0))
    if (q.negative_multipliers) {
        if (lower || upper) PARLA_ADD_VBMI(1, 0, 1, 1); else PARLA_ADD_VBMI(1, 0, 0, 0);
    } else if (relu) {
        if (lower) {
            if (upper) PARLA_ADD_VBMI(0, 1, 1, 1); else PARLA_ADD_VBMI(0, 1, 1, 0);
        } else {
            if (upper) PARLA_ADD_VBMI(0, 1, 0, 1); else PARLA_ADD_VBMI(0, 1, 0, 0);
        }
    } else {
        if (lower || upper) PARLA_ADD_VBMI(0, 0, 1, 1); else PARLA_ADD_VBMI(0, 0, 0, 0);
    }
#undef PARLA_ADD_VBMI
    return 1;
}

// MARK: PReLU

PARLA_AVX2_INLINE void prelu(const int8_t *in, int32_t input_zero_point, int8_t *out, ptrdiff_t count,
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

PARLA_AVX2 void parla_qs8_prelu_avx2(const int8_t *in, int32_t input_zero_point, int8_t *out, ptrdiff_t count,
                                     ptrdiff_t channels, const parla_qs8_requant *rq) {
    prelu(in, input_zero_point, out, count, channels, rq);
}

PARLA_AVX512VL void parla_qs8_prelu_avx512(const int8_t *in, int32_t input_zero_point, int8_t *out, ptrdiff_t count,
                                           ptrdiff_t channels, const parla_qs8_requant *rq) {
    prelu(in, input_zero_point, out, count, channels, rq);
}

#endif
