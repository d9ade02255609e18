// CParlaF32: the fp32 convolution for x86-64 CPUs with AVX2 and FMA, selected at run time with CPUID (the Swift SIMD
// kernel in ParlaKernels/Conv2D+SIMD.swift stays the portable default, Conv2D.reference the definition).
#ifndef CPARLAF32_H
#define CPARLAF32_H

#include <stddef.h>

/// One fp32 convolution (NHWC, batch 1) on `Conv2D.PackedWeights`: blocks of 8 output channels `[block][kH][kW][inC][8]`
/// and the bias padded to `blocks`·8 values. Windows leaving the image are clipped. Each output value is the bias plus
/// the products in the reference's order (kernel row, column, input channel), each added with one FMA.
typedef struct {
    const float *input;
    float *output;
    const float *weights;
    const float *bias;
    ptrdiff_t input_height, input_width, input_channels, output_height, output_width, output_channels, blocks;
    ptrdiff_t kernel_height, kernel_width, stride_y, stride_x, pad_top, pad_left;
    float lower, upper;
} parla_f32_conv;

#if defined(__x86_64__)
/// 1 when the CPU and the OS support AVX2 and FMA (CPUID + XGETBV), else 0.
int parla_f32_cpu_avx2fma(void);

/// The convolution with 8-lane FMAs: 4 pixels × 16 output channels per register tile inside the image, one pixel ×
/// up to 32 channels at the borders. Call only when parla_f32_cpu_avx2fma() is 1.
void parla_f32_conv_avx2(const parla_f32_conv *p);

/// Transposed convolution 2×2, stride 2, no padding, one output channel (MediaPipe's segmentation head), NHWC
/// `input` [height][width][channels] with `channels` a multiple of 8, OHWI `weights` [1][2][2][channels], `output`
/// [2·height][2·width]: output (2y + ky, 2x + kx) = bias + input(y, x) · weights(ky, kx). Pixels are lanes of the
/// final sums (no horizontal sum per output). Call only when parla_f32_cpu_avx2fma() is 1.
void parla_f32_transpose_conv2x2_c1_avx2(const float *input, const float *weights, float bias, float *output,
                                         ptrdiff_t height, ptrdiff_t width, ptrdiff_t channels);

/// LOGISTIC on `count` values, the operations of Swift's `Logistic.exponential8` (Cephes expf) with FMA in 8
/// lanes, the last 1...7 values through the same lanes. `input` and `output` may be the same memory. Call only
/// when parla_f32_cpu_avx2fma() is 1.
void parla_f32_logistic_avx2(const float *input, float *output, ptrdiff_t count);
#endif

#endif
