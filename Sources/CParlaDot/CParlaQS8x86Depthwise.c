// The AVX2 int8 depthwise convolution (see CParlaQS8.h and docs/int8-kernels.md); the shared helpers are in qs8_x86.h.
#include "qs8_x86.h"

#if defined(__x86_64__)

// MARK: Depthwise

/// Sums over tap pairs of 16 channels at offset c: lo gets channels 0-3 and 8-11, hi 4-7 and 12-15.
PARLA_AVX2_INLINE void depthwise_pairs(const int8_t *const *ptr, ptrdiff_t c, ptrdiff_t pairs, const int16_t *w,
                                       __m256i *lo_out, __m256i *hi_out) {
    __m256i lo = _mm256_setzero_si256(), hi = lo;
    for (ptrdiff_t p = 0; p < pairs; p++) {
        __m256i x0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(ptr[2 * p] + c)));
        __m256i x1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(ptr[2 * p + 1] + c)));
        lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(x0, x1),
                                                     _mm256_loadu_si256((const __m256i *)(const void *)(w + p * 32))));
        hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(x0, x1),
                                                     _mm256_loadu_si256((const __m256i *)(const void *)(w + p * 32 + 16))));
    }
    *lo_out = lo;
    *hi_out = hi;
}

/// Per output pixel the kernel taps' input pointers are gathered first (taps outside the image point at a row of
/// zero points, which adds (zp - zp)·w = 0 like the reference's clipping), so the channel loop is the same for
/// border and interior pixels. The zero point is folded into the bias (bias - zp·Σw); per block of 16 channels
/// and pair of taps the two int8 vectors are widened, interleaved (vpunpcklwd/hwd) and multiplied by the
/// interleaved weights with vpmaddwd: 32 multiply-adds in 8 instructions.
PARLA_AVX2 void parla_qs8_depthwise_avx2(const parla_qs8_depthwise *d, const parla_qs8_requant *rq, ptrdiff_t row_begin,
                                         ptrdiff_t row_end) {
    const ptrdiff_t C = d->channels, cp = d->padded_channels, kh = d->kernel_height, kw = d->kernel_width;
    const ptrdiff_t ih = d->input_height, iw = d->input_width, ow = d->output_width;
    const ptrdiff_t taps = kh * kw, pairs = (taps + 1) / 2;
    const int8_t *const end = d->input + ih * iw * C;
    int8_t zero_row[cp + 32];
    memset(zero_row, (int)(int8_t)d->input_zero_point, sizeof zero_row);
    int32_t bias[cp];
    for (ptrdiff_t c = 0; c < cp; c++) bias[c] = (int32_t)((uint32_t)d->bias[c] - (uint32_t)d->input_zero_point * (uint32_t)d->weight_sums[c]);
    const int8_t *ptr[2 * pairs];
    ptrdiff_t offsets[taps];  // of each tap from the window's corner, for windows inside the image
    for (ptrdiff_t ky = 0; ky < kh; ky++) {
        for (ptrdiff_t kx = 0; kx < kw; kx++) offsets[ky * kw + kx] = (ky * iw + kx) * C;
    }
    int8_t tail[2 * pairs][16];
    rq_vectors r = rq_load(rq);
    for (ptrdiff_t oy = row_begin; oy < row_end; oy++) {
        const ptrdiff_t iy0 = oy * d->stride_y - d->pad_top;
        for (ptrdiff_t ox = 0; ox < ow; ox++) {
            const ptrdiff_t ix0 = ox * d->stride_x - d->pad_left;
            if (iy0 >= 0 && iy0 + kh <= ih && ix0 >= 0 && ix0 + kw <= iw) {
                const int8_t *base = d->input + (iy0 * iw + ix0) * C;
                for (ptrdiff_t t = 0; t < taps; t++) ptr[t] = base + offsets[t];
            } else {
                for (ptrdiff_t ky = 0, t = 0; ky < kh; ky++) {
                    const ptrdiff_t iy = iy0 + ky;
                    for (ptrdiff_t kx = 0; kx < kw; kx++, t++) {
                        const ptrdiff_t ix = ix0 + kx;
                        ptr[t] = iy >= 0 && iy < ih && ix >= 0 && ix < iw ? d->input + (iy * iw + ix) * C : zero_row;
                    }
                }
            }
            if (taps % 2) ptr[taps] = ptr[taps - 1];  // its weights are 0
            int8_t *out = d->output + (oy * ow + ox) * C;
            for (ptrdiff_t c = 0; c < C; c += 16) {
                const int16_t *w = d->weights + (c / 16) * pairs * 32;
                __m256i lo, hi;
                if (c + 16 <= C) {
                    depthwise_pairs(ptr, c, pairs, w, &lo, &hi);
                } else {
                    // The last partial block: never read past the input (the channels beyond C have zero weights).
                    const int8_t *part[2 * pairs];
                    for (ptrdiff_t t = 0; t < 2 * pairs; t++) {
                        part[t] = ptr[t] + c;
                        if (ptr[t] != zero_row && part[t] + 16 > end) {
                            memcpy(tail[t], part[t], (size_t)(C - c));
                            part[t] = tail[t];
                        }
                    }
                    depthwise_pairs(part, 0, pairs, w, &lo, &hi);
                }
                __m256i a0 = _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x20), load8(bias + c));
                __m256i a1 = _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x31), load8(bias + c + 8));
                const ptrdiff_t left = C - c;
                store8(out + c, requantize8(a0, &r, c), left < 8 ? left : 8);
                if (left > 8) store8(out + c + 8, requantize8(a1, &r, c + 8), left < 16 ? left - 8 : 8);
            }
        }
    }
}

#endif
