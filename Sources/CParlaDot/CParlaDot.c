#include "CParlaDot.h"

#if defined(__aarch64__) && defined(__linux__)
#include <arm_neon.h>
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

int parla_cpu_has_dotprod(void) {
#if defined(__aarch64__) && defined(__linux__)
    return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#else
    return 0;
#endif
}

void parla_qs8_tile4x8c4_portable(const int8_t *a, size_t aStride, const int8_t *w, size_t kBlocks, int32_t *acc) {
    for (int p = 0; p < 4; p++) {
        for (int c = 0; c < 8; c++) {
            int32_t sum = 0;
            for (size_t b = 0; b < kBlocks; b++) {
                for (int j = 0; j < 4; j++) {
                    sum += (int32_t)a[p * aStride + b * 4 + j] * (int32_t)w[b * 32 + c * 4 + j];
                }
            }
            acc[p * 8 + c] = sum;
        }
    }
}

#if defined(__aarch64__)
__attribute__((target("dotprod")))
void parla_qs8_tile4x8c4_dotprod(const int8_t *a, size_t aStride, const int8_t *w, size_t kBlocks, int32_t *acc) {
    int32x4_t c00 = vdupq_n_s32(0), c01 = vdupq_n_s32(0), c10 = vdupq_n_s32(0), c11 = vdupq_n_s32(0);
    int32x4_t c20 = vdupq_n_s32(0), c21 = vdupq_n_s32(0), c30 = vdupq_n_s32(0), c31 = vdupq_n_s32(0);
    const int8_t *a0 = a, *a1 = a + aStride, *a2 = a + 2 * aStride, *a3 = a + 3 * aStride;
    for (size_t b = 0; b < kBlocks; b++) {
        // Channels 0-3 and 4-7, each lane 4 taps.
        int8x16_t w0 = vld1q_s8(w + b * 32), w1 = vld1q_s8(w + b * 32 + 16);
        int8x16_t x0 = vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t *)(const void *)(a0 + b * 4)));
        int8x16_t x1 = vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t *)(const void *)(a1 + b * 4)));
        int8x16_t x2 = vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t *)(const void *)(a2 + b * 4)));
        int8x16_t x3 = vreinterpretq_s8_s32(vld1q_dup_s32((const int32_t *)(const void *)(a3 + b * 4)));
        c00 = vdotq_s32(c00, w0, x0); c01 = vdotq_s32(c01, w1, x0);
        c10 = vdotq_s32(c10, w0, x1); c11 = vdotq_s32(c11, w1, x1);
        c20 = vdotq_s32(c20, w0, x2); c21 = vdotq_s32(c21, w1, x2);
        c30 = vdotq_s32(c30, w0, x3); c31 = vdotq_s32(c31, w1, x3);
    }
    vst1q_s32(acc + 0, c00); vst1q_s32(acc + 4, c01);
    vst1q_s32(acc + 8, c10); vst1q_s32(acc + 12, c11);
    vst1q_s32(acc + 16, c20); vst1q_s32(acc + 20, c21);
    vst1q_s32(acc + 24, c30); vst1q_s32(acc + 28, c31);
}
#else
void parla_qs8_tile4x8c4_dotprod(const int8_t *a, size_t aStride, const int8_t *w, size_t kBlocks, int32_t *acc) {
    parla_qs8_tile4x8c4_portable(a, aStride, w, kBlocks, acc);
}
#endif
