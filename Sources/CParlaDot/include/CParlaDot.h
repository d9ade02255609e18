// CParlaDot: the int8 GEMM register tile with the Armv8.2 dot-product instruction (sdot), which LLVM never
// forms from Swift. Selected at run time; every other CPU gets the portable C version of the same tile.
#ifndef CPARLADOT_H
#define CPARLADOT_H

#include <stddef.h>
#include <stdint.h>

#include "CParlaQS8.h"  // the AVX2 kernels (x86-64)
#include "CParlaF32.h"  // the AVX2 + FMA fp32 convolution (x86-64)

/// 1 when this CPU has the dot-product instructions (aarch64 HWCAP_ASIMDDP), else 0.
int parla_cpu_has_dotprod(void);

/// 4 pixels x 8 output channels of int32 sums over 4*kBlocks taps:
///   acc[p*8 + c] = sum over k of a[p*aStride + k] * w[(k/4)*32 + c*4 + k%4]
/// a: 4 rows of int8 inputs (aStride bytes apart); w: one block of int8 weights packed [k/4][8 channels][4 taps].
/// Uses sdot; call only when parla_cpu_has_dotprod() is 1 (on other CPUs it is the portable version).
void parla_qs8_tile4x8c4_dotprod(const int8_t *a, size_t aStride, const int8_t *w, size_t kBlocks, int32_t *acc);

/// The same tile in portable C.
void parla_qs8_tile4x8c4_portable(const int8_t *a, size_t aStride, const int8_t *w, size_t kBlocks, int32_t *acc);

#endif
