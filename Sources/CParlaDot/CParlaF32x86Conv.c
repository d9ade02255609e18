// The fp32 convolution with AVX2 + FMA (see CParlaF32.h). Swift without -mavx2 compiles SIMD8<Float> to pairs of
// SSE mulps/addps, and its 4-pixel × 8-channel tile needs a broadcast per product; here one tile is 4 pixels × 16
// channels in 8 YMM accumulators (2 weight loads and 4 broadcasts per 8 FMAs).
#include "CParlaF32.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

#define PARLA_FMA __attribute__((target("avx2,fma")))
#define PARLA_FMA_INLINE static inline __attribute__((target("avx2,fma"), always_inline))

static unsigned long long parla_f32_xgetbv0(void) {
    unsigned eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

int parla_f32_cpu_avx2fma(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27)) || !(c & (1u << 28)) || !(c & (1u << 12))) return 0;  // OSXSAVE, AVX, FMA
    if ((parla_f32_xgetbv0() & 6) != 6) return 0;                              // the OS saves XMM and YMM state
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & (1u << 5)) != 0;  // AVX2
}

/// Clamps and stores `lanes` (1...8) values.
PARLA_FMA_INLINE void store_clamped(float *out, __m256 v, ptrdiff_t lanes, __m256 lower, __m256 upper) {
    v = _mm256_min_ps(_mm256_max_ps(v, lower), upper);
    if (lanes >= 8) {
        _mm256_storeu_ps(out, v);
    } else {
        float t[8];
        _mm256_storeu_ps(t, v);
        for (ptrdiff_t l = 0; l < lanes; l++) out[l] = t[l];
    }
}

PARLA_FMA_INLINE ptrdiff_t lanes_of(const parla_f32_conv *p, ptrdiff_t block) {
    ptrdiff_t left = p->output_channels - block * 8;
    return left < 8 ? left : 8;
}

/// 4 interior pixels (input columns first, first + stride_x·ci...) × blocks `block` and `block + 1` (or only `block`
/// when `two` is 0). `taps` = kW·inC contiguous values per kernel row in both input and weights.
PARLA_FMA_INLINE void tile4(const parla_f32_conv *p, const float *first, ptrdiff_t ky0, ptrdiff_t ky1, ptrdiff_t block,
                            int two, float *out, __m256 lower, __m256 upper) {
    const ptrdiff_t ci = p->input_channels, taps = p->kernel_width * ci, step = p->stride_x * ci;
    const ptrdiff_t block_stride = p->kernel_height * taps * 8, row_stride = p->input_width * ci;
    const ptrdiff_t co = p->output_channels;
    __m256 a0, a1, a2, a3, b0, b1, b2, b3;
    a0 = a1 = a2 = a3 = _mm256_loadu_ps(p->bias + block * 8);
    b0 = b1 = b2 = b3 = two ? _mm256_loadu_ps(p->bias + block * 8 + 8) : _mm256_setzero_ps();
    for (ptrdiff_t ky = ky0; ky < ky1; ky++) {
        const float *w = p->weights + block * block_stride + ky * taps * 8;
        const float *x0 = first + ky * row_stride, *x1 = x0 + step, *x2 = x1 + step, *x3 = x2 + step;
        if (two) {
            const float *v = w + block_stride;
            for (ptrdiff_t t = 0; t < taps; t++) {
                const __m256 wa = _mm256_loadu_ps(w + t * 8), wb = _mm256_loadu_ps(v + t * 8);
                const __m256 s0 = _mm256_broadcast_ss(x0 + t), s1 = _mm256_broadcast_ss(x1 + t);
                const __m256 s2 = _mm256_broadcast_ss(x2 + t), s3 = _mm256_broadcast_ss(x3 + t);
                a0 = _mm256_fmadd_ps(wa, s0, a0);
                b0 = _mm256_fmadd_ps(wb, s0, b0);
                a1 = _mm256_fmadd_ps(wa, s1, a1);
                b1 = _mm256_fmadd_ps(wb, s1, b1);
                a2 = _mm256_fmadd_ps(wa, s2, a2);
                b2 = _mm256_fmadd_ps(wb, s2, b2);
                a3 = _mm256_fmadd_ps(wa, s3, a3);
                b3 = _mm256_fmadd_ps(wb, s3, b3);
            }
        } else {
            for (ptrdiff_t t = 0; t < taps; t++) {
                const __m256 wa = _mm256_loadu_ps(w + t * 8);
                a0 = _mm256_fmadd_ps(wa, _mm256_broadcast_ss(x0 + t), a0);
                a1 = _mm256_fmadd_ps(wa, _mm256_broadcast_ss(x1 + t), a1);
                a2 = _mm256_fmadd_ps(wa, _mm256_broadcast_ss(x2 + t), a2);
                a3 = _mm256_fmadd_ps(wa, _mm256_broadcast_ss(x3 + t), a3);
            }
        }
    }
    const ptrdiff_t la = lanes_of(p, block);
    float *o = out + block * 8;
    store_clamped(o, a0, la, lower, upper);
    store_clamped(o + co, a1, la, lower, upper);
    store_clamped(o + 2 * co, a2, la, lower, upper);
    store_clamped(o + 3 * co, a3, la, lower, upper);
    if (two) {
        const ptrdiff_t lb = lanes_of(p, block + 1);
        store_clamped(o + 8, b0, lb, lower, upper);
        store_clamped(o + co + 8, b1, lb, lower, upper);
        store_clamped(o + 2 * co + 8, b2, lb, lower, upper);
        store_clamped(o + 3 * co + 8, b3, lb, lower, upper);
    }
}

/// One pixel with the kernel clipped to rows ky0..<ky1 and columns kx0..<kx1, blocks `block`..<`block + n` (n ≤ 4,
/// independent FMA chains); `origin` points at the input of kernel tap (0, 0), which may lie outside the image.
PARLA_FMA_INLINE void pixel(const parla_f32_conv *p, const float *origin, ptrdiff_t ky0, ptrdiff_t ky1, ptrdiff_t kx0,
                            ptrdiff_t kx1, ptrdiff_t block, ptrdiff_t n, float *out, __m256 lower, __m256 upper) {
    const ptrdiff_t ci = p->input_channels, taps = p->kernel_width * ci;
    const ptrdiff_t block_stride = p->kernel_height * taps * 8, row_stride = p->input_width * ci;
    __m256 acc[4];
    for (ptrdiff_t j = 0; j < 4; j++) acc[j] = j < n ? _mm256_loadu_ps(p->bias + (block + j) * 8) : _mm256_setzero_ps();
    const ptrdiff_t lo = kx0 * ci, hi = kx1 * ci;
    for (ptrdiff_t ky = ky0; ky < ky1; ky++) {
        const float *w = p->weights + block * block_stride + ky * taps * 8;
        const float *x = origin + ky * row_stride;
        if (n == 4) {
            for (ptrdiff_t t = lo; t < hi; t++) {
                const __m256 s = _mm256_broadcast_ss(x + t);
                acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(w + t * 8), s, acc[0]);
                acc[1] = _mm256_fmadd_ps(_mm256_loadu_ps(w + block_stride + t * 8), s, acc[1]);
                acc[2] = _mm256_fmadd_ps(_mm256_loadu_ps(w + 2 * block_stride + t * 8), s, acc[2]);
                acc[3] = _mm256_fmadd_ps(_mm256_loadu_ps(w + 3 * block_stride + t * 8), s, acc[3]);
            }
        } else {
            for (ptrdiff_t t = lo; t < hi; t++) {
                const __m256 s = _mm256_broadcast_ss(x + t);
                for (ptrdiff_t j = 0; j < n; j++)
                    acc[j] = _mm256_fmadd_ps(_mm256_loadu_ps(w + j * block_stride + t * 8), s, acc[j]);
            }
        }
    }
    for (ptrdiff_t j = 0; j < n; j++) store_clamped(out + (block + j) * 8, acc[j], lanes_of(p, block + j), lower, upper);
}

PARLA_FMA void parla_f32_conv_avx2(const parla_f32_conv *p) {
    const ptrdiff_t ci = p->input_channels, co = p->output_channels, kw = p->kernel_width, kh = p->kernel_height;
    const ptrdiff_t sx = p->stride_x, iw = p->input_width, blocks = p->blocks;
    const __m256 lower = _mm256_set1_ps(p->lower), upper = _mm256_set1_ps(p->upper);
    for (ptrdiff_t oy = 0; oy < p->output_height; oy++) {
        const ptrdiff_t iy0 = oy * p->stride_y - p->pad_top;
        const ptrdiff_t ky0 = iy0 < 0 ? -iy0 : 0, ky1 = kh < p->input_height - iy0 ? kh : p->input_height - iy0;
        float *out_row = p->output + oy * p->output_width * co;
        ptrdiff_t ox = 0;
        while (ox < p->output_width) {
            const ptrdiff_t first_column = ox * sx - p->pad_left;
            const float *origin = p->input + (iy0 * iw + first_column) * ci;
            float *out = out_row + ox * co;
            if (ox + 4 <= p->output_width && first_column >= 0 && first_column + 3 * sx + kw <= iw) {
                ptrdiff_t block = 0;
                for (; block + 2 <= blocks; block += 2) tile4(p, origin, ky0, ky1, block, 1, out, lower, upper);
                if (block < blocks) tile4(p, origin, ky0, ky1, block, 0, out, lower, upper);
                ox += 4;
            } else {
                const ptrdiff_t kx0 = first_column < 0 ? -first_column : 0;
                const ptrdiff_t kx1 = kw < iw - first_column ? kw : iw - first_column;
                for (ptrdiff_t block = 0; block < blocks; block += 4) {
                    const ptrdiff_t n = blocks - block < 4 ? blocks - block : 4;
                    pixel(p, origin, ky0, ky1, kx0, kx1, block, n, out, lower, upper);
                }
                ox += 1;
            }
        }
    }
}

#endif

// Transposed 2×2/2 convolution to one channel. Four pixels at a time, two per register: the 128-bit halves of
// z[q] hold 4 channels of two pixels (after vperm2f128), so z[q] · w(tap, 4 channels twice) leaves, per half, 4
// partial sums of one pixel and one tap; the four taps' vectors are then summed across their 4 lanes together
// (2 rounds of unpack + add), giving per half one pixel's 4 taps [ky0kx0, ky0kx1, ky1kx0, ky1kx1]. Register A
// holds pixels 0 and 2, B pixels 1 and 3, so one vshufps of A and B gives the output row 2y's 8 values in order
// and another row 2y + 1's.
#if defined(__x86_64__)
PARLA_FMA_INLINE __m256 tc_taps(const float *x0, const float *x1, const __m256 *w, ptrdiff_t channels) {
    __m256 v[4];
    for (int t = 0; t < 4; t++) v[t] = _mm256_setzero_ps();
    for (ptrdiff_t c = 0; c < channels; c += 8) {
        __m256 a = _mm256_loadu_ps(x0 + c), b = _mm256_loadu_ps(x1 + c);
        __m256 lo = _mm256_permute2f128_ps(a, b, 0x20), hi = _mm256_permute2f128_ps(a, b, 0x31);
        const __m256 *wc = w + c / 4 * 4;  // [channel group of 4][tap]
        for (int t = 0; t < 4; t++) {
            v[t] = _mm256_fmadd_ps(lo, wc[t], v[t]);
            v[t] = _mm256_fmadd_ps(hi, wc[4 + t], v[t]);
        }
    }
    // v[t] half j = 4 partial sums of pixel j, tap t.
    __m256 s01 = _mm256_add_ps(_mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(v[0]), _mm256_castps_pd(v[1]))),
                               _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(v[0]), _mm256_castps_pd(v[1]))));
    __m256 s23 = _mm256_add_ps(_mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(v[2]), _mm256_castps_pd(v[3]))),
                               _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(v[2]), _mm256_castps_pd(v[3]))));
    return _mm256_add_ps(_mm256_shuffle_ps(s01, s23, 0x88), _mm256_shuffle_ps(s01, s23, 0xDD));
}

PARLA_FMA void parla_f32_transpose_conv2x2_c1_avx2(const float *input, const float *weights, float bias, float *output,
                                                   ptrdiff_t height, ptrdiff_t width, ptrdiff_t channels) {
    // w[g·4 + t] = weights(tap t, channels 4g…4g+3) in both halves; at most 64 groups on the stack, else per call.
    ptrdiff_t groups = channels / 4;
    __m256 stack[256];
    __m256 *w = groups <= 64 ? stack : (__m256 *)_mm_malloc((size_t)groups * 4 * sizeof(__m256), 32);
    if (!w) return;
    for (ptrdiff_t g = 0; g < groups; g++) {
        for (int t = 0; t < 4; t++) {
            __m128 q = _mm_loadu_ps(weights + t * channels + g * 4);
            w[g * 4 + t] = _mm256_set_m128(q, q);
        }
    }
    const __m256 b = _mm256_set1_ps(bias);
    ptrdiff_t ow = 2 * width;
    for (ptrdiff_t y = 0; y < height; y++) {
        const float *row = input + y * width * channels;
        float *top = output + 2 * y * ow, *bottom = top + ow;
        ptrdiff_t x = 0;
        for (; x + 4 <= width; x += 4) {
            const float *p = row + x * channels;
            __m256 a = _mm256_add_ps(tc_taps(p, p + 2 * channels, w, channels), b);
            __m256 c = _mm256_add_ps(tc_taps(p + channels, p + 3 * channels, w, channels), b);
            _mm256_storeu_ps(top + 2 * x, _mm256_shuffle_ps(a, c, 0x44));
            _mm256_storeu_ps(bottom + 2 * x, _mm256_shuffle_ps(a, c, 0xEE));
        }
        for (; x < width; x++) {
            const float *p = row + x * channels;
            float t[8];
            _mm256_storeu_ps(t, _mm256_add_ps(tc_taps(p, p, w, channels), b));
            top[2 * x] = t[0];
            top[2 * x + 1] = t[1];
            bottom[2 * x] = t[2];
            bottom[2 * x + 1] = t[3];
        }
    }
    if (w != stack) _mm_free(w);
}
#endif
