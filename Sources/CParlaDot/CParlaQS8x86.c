// CPU feature checks for the x86-64 int8 kernels (CParlaQS8x86*.c, see CParlaQS8.h and docs/int8-kernels.md).
#include "qs8_x86.h"

#if defined(__x86_64__)
#include <cpuid.h>

static uint64_t parla_xgetbv0(void) {
    uint32_t eax, edx;
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));  // xgetbv
    return ((uint64_t)edx << 32) | eax;
}

int parla_qs8_cpu_avx2(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27)) || !(c & (1u << 28))) return 0;  // OSXSAVE, AVX
    if ((parla_xgetbv0() & 6) != 6) return 0;              // the OS saves XMM and YMM state
    if (__get_cpuid_max(0, NULL) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b & (1u << 5)) != 0;                            // AVX2
}

int parla_qs8_cpu_avxvnni(void) {
    if (!parla_qs8_cpu_avx2()) return 0;
    unsigned a, b, c, d;
    __cpuid_count(7, 1, a, b, c, d);
    return (a & (1u << 4)) != 0;  // AVX-VNNI
}

int parla_qs8_cpu_avx512vnni(void) {
    if (!parla_qs8_cpu_avx2()) return 0;
    if ((parla_xgetbv0() & 0xE0) != 0xE0) return 0;  // the OS saves opmask, ZMM0-15 upper halves and ZMM16-31
    unsigned a, b, c, d;
    __cpuid_count(7, 0, a, b, c, d);
    const unsigned f = 1u << 16, bw = 1u << 30, vl = 1u << 31;  // AVX512F, AVX512BW, AVX512VL
    return (b & (f | bw | vl)) == (f | bw | vl) && (c & (1u << 11)) != 0;  // AVX512_VNNI
}

PARLA_AVX2 void parla_qs8_mbqm_avx2(const int32_t *x, const int32_t *multiplier, const int32_t *shift, int32_t *out,
                                    ptrdiff_t count) {
    const __m256i zero = _mm256_setzero_si256();
    for (ptrdiff_t i = 0; i < count; i += 8) {
        const ptrdiff_t lanes = count - i < 8 ? count - i : 8;
        int32_t tx[8] = {0}, tm[8] = {0}, ts[8] = {0}, to[8];
        memcpy(tx, x + i, (size_t)lanes * 4);
        memcpy(tm, multiplier + i, (size_t)lanes * 4);
        memcpy(ts, shift + i, (size_t)lanes * 4);
        __m256i s = load8(ts);
        __m256i r = mbqm8(load8(tx), load8(tm), _mm256_max_epi32(s, zero), _mm256_max_epi32(_mm256_sub_epi32(zero, s), zero));
        _mm256_storeu_si256((__m256i *)(void *)to, r);
        memcpy(out + i, to, (size_t)lanes * 4);
    }
}

#endif
