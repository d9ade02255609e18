// CParlaQS8: int8 kernels for x86-64 CPUs with AVX2, the GEMM also with AVX-VNNI or AVX-512 VNNI (selected at run
// time with CPUID; the Swift SIMD kernels stay the portable default and the scalar references stay the definition). Bit-exact with
// ParlaKernels' scalar references: integer arithmetic only, TFLite's fixed-point rounding.
#ifndef CPARLAQS8_H
#define CPARLAQS8_H

#include <stddef.h>
#include <stdint.h>

/// The per-output-channel requantization epilogue (Swift `Requantizer`):
///   q = clamp(zero_point + MBQM(v, v >= 0 ? positive[c] : negative[c]), activation_min, activation_max)
/// `table` holds 6 rows of `stride` int32 values (channels padded to `stride`, a multiple of 16): positive
/// multiplier, positive left shift max(shift, 0), positive right shift max(-shift, 0), then the same three for
/// the negative branch (equal to the positive rows when `has_negative` is 0).
/// `simple` is 1 when every shift is <= 0 and no multiplier is INT32_MIN (what QuantizeMultiplier gives for real
/// scales below 1): the kernels then skip the left shift and the INT32_MIN² saturation fix.
typedef struct {
    const int32_t *table;
    ptrdiff_t stride;
    int32_t zero_point, activation_min, activation_max, has_negative, simple;
} parla_qs8_requant;

/// One int8 convolution for the AVX-512 VNNI GEMM (NHWC, batch 1, OHWI weights); padding reads the zero point.
typedef struct {
    const int8_t *input;
    int8_t *output;
    /// int8 blocks of 16 output channels `[block][kp/4][16 channels][4 taps]` (kp = taps rounded up to 4, zero
    /// weights for padded taps and channels; QuantizedConv2D.PackedWeights.wideBytes).
    const int8_t *weights;
    /// The bias for unsigned inputs (bias − inZp·Σw − 128·Σw), padded to a multiple of 16 channels.
    const int32_t *bias;
    ptrdiff_t input_height, input_width, input_channels, output_width, output_channels;
    ptrdiff_t kernel_height, kernel_width, stride_y, stride_x, pad_top, pad_left;
    int32_t input_zero_point;
} parla_qs8_conv;

/// One int8 depthwise convolution (channel multiplier 1, NHWC, batch 1); border windows are clipped.
typedef struct {
    const int8_t *input;
    int8_t *output;
    /// int16 weights for vpmaddwd on tap pairs: per block of 16 channels, per pair of taps (2p, 2p+1), 32 values:
    /// `lo[16]` then `hi[16]`, lane j of lo holding channel 8·(j/8) + (j%8)/2 of tap 2p + j%2, hi the same
    /// 4 channels further (the lane order of vpunpcklwd/vpunpckhwd); zero for padded channels and the odd last tap.
    const int16_t *weights;
    /// int32 bias and Σ over taps of the weights, `padded_channels` values each.
    const int32_t *bias, *weight_sums;
    ptrdiff_t channels, padded_channels;
    ptrdiff_t input_height, input_width, output_width, kernel_height, kernel_width, stride_y, stride_x, pad_top, pad_left;
    int32_t input_zero_point;
} parla_qs8_depthwise;

/// TFLite's int8 ADD (inputs << 20, uniform multipliers, output multiplier) with an optional fused per-channel PReLU
/// (`negative_multipliers`/`negative_shifts`, `channels` values each, or NULL). Input offsets in -128...128 and input
/// shifts <= 0 (`QuantizedAdd.Parameters.init` checks the shifts).
typedef struct {
    int32_t input1_offset, input2_offset, output_offset;
    int32_t input1_multiplier, input1_shift, input2_multiplier, input2_shift, output_multiplier, output_shift;
    int32_t activation_min, activation_max;
    const int32_t *negative_multipliers, *negative_shifts;
    ptrdiff_t channels;
} parla_qs8_add;

/// TFLite's int8 MUL: out = clamp(output_zero_point + MBQM((a - input1_zero_point)·(b - input2_zero_point),
/// multiplier, shift), activation_min, activation_max).
typedef struct {
    int32_t input1_zero_point, input2_zero_point, output_zero_point, multiplier, shift, activation_min, activation_max;
} parla_qs8_mul;

#if defined(__x86_64__)
/// 1 when the CPU and the OS support AVX2 (CPUID + XGETBV), else 0.
int parla_qs8_cpu_avx2(void);

/// out[i] = MultiplyByQuantizedMultiplier(x[i], multiplier[i], shift[i]) with the kernels' 8-lane code (any count);
/// the tests compare it with the scalar form on extreme values.
void parla_qs8_mbqm_avx2(const int32_t *x, const int32_t *multiplier, const int32_t *shift, int32_t *out, ptrdiff_t count);

/// `count` (1...4) output pixels of a convolution or fully connected layer, all output channels, with vpmaddwd:
/// `rows[0...3]` point at `k` int8 inputs each (rows beyond `count` are read but not stored), widened here into
/// `scratch` (4·kp int16, kp = k rounded up to 4); `weights` are the int16 blocks `[block][kp/2][8 channels][2 taps]`
/// (QuantizedConv2D.PackedWeights.values), `bias` blocks·8 values; pixel i is stored at `out + i·out_channels`.
void parla_qs8_gemm4_avx2(const int8_t *const *rows, ptrdiff_t k, int16_t *scratch, const int16_t *weights,
                          ptrdiff_t blocks, const int32_t *bias, const parla_qs8_requant *rq, int8_t *out,
                          ptrdiff_t out_channels, ptrdiff_t count);

/// 1 when the CPU has AVX-VNNI (vpdpbusd with a VEX encoding) besides AVX2, else 0.
int parla_qs8_cpu_avxvnni(void);

/// The same GEMM with AVX-VNNI `vpdpbusd` on the int8 rows read in place (no scratch): inputs are made unsigned
/// (x + 128) and `bias` is the folded bias minus 128·Σw; `weights` are the int8 blocks
/// `[block][kp/4][8 channels][4 taps]` (PackedWeights.bytes).
void parla_qs8_gemm4_avxvnni(const int8_t *const *rows, ptrdiff_t k, const int8_t *weights, ptrdiff_t blocks,
                             const int32_t *bias, const parla_qs8_requant *rq, int8_t *out, ptrdiff_t out_channels,
                             ptrdiff_t count);

/// 1 when the CPU has AVX-512 F/BW/VL and AVX512_VNNI (EVEX vpdpbusd) and the OS saves the opmask and ZMM state,
/// besides AVX2, else 0.
int parla_qs8_cpu_avx512vnni(void);

/// The GEMM with AVX-512 VNNI: `count` (1...8) output pixels, `rows[0...count-1]` point at `k` int8 inputs each,
/// copied unsigned (x + 128) into `scratch` (8·kp + 64 bytes, kp = k rounded up to 4); `weights` and `bias` as in
/// parla_qs8_conv; pixel i is stored at `out + i·out_channels`.
void parla_qs8_gemm8_avx512vnni(const int8_t *const *rows, ptrdiff_t k, uint8_t *scratch, const int8_t *weights,
                                const int32_t *bias, const parla_qs8_requant *rq, int8_t *out, ptrdiff_t out_channels,
                                ptrdiff_t count);

/// Output rows [row_begin, row_end) of a convolution with AVX-512 VNNI: the windows of up to 64 output pixels
/// are written unsigned into `scratch` (`scratch_bytes` ≥ 8·kp + 64; 1×1 stride-1 unpadded convolutions copy the
/// pixels), then 8 pixels × 32 channels per pass of `vpdpbusd` zmm with the epilogue in 16 lanes.
void parla_qs8_conv_avx512vnni(const parla_qs8_conv *c, const parla_qs8_requant *rq, ptrdiff_t row_begin,
                               ptrdiff_t row_end, uint8_t *scratch, ptrdiff_t scratch_bytes);

/// Output rows [row_begin, row_end) of a depthwise convolution.
void parla_qs8_depthwise_avx2(const parla_qs8_depthwise *d, const parla_qs8_requant *rq, ptrdiff_t row_begin,
                              ptrdiff_t row_end);

/// `count` values of an int8 ADD (with a fused PReLU, `count` is a whole number of pixels of `channels`).
void parla_qs8_add_avx2(const int8_t *a, const int8_t *b, int8_t *out, ptrdiff_t count, const parla_qs8_add *p);

/// Standalone PReLU / requantization of int8 values: out[i] = requantize(in[i] - input_zero_point, channel i % channels).
void parla_qs8_prelu_avx2(const int8_t *in, int32_t input_zero_point, int8_t *out, ptrdiff_t count, ptrdiff_t channels,
                          const parla_qs8_requant *rq);

/// `count` values of an int8 MUL, `count` a multiple of `period`: `b` holds `period` values, used again for every
/// `period` values of `a` (a per-channel gate has period = channels; a full-size `b` has period = count).
void parla_qs8_mul_avx2(const int8_t *a, const int8_t *b, int8_t *out, ptrdiff_t count, ptrdiff_t period,
                        const parla_qs8_mul *p);

/// out[i] = table[in[i] + 128] (a 256-entry `Int8LookupTable`), 32 values per step with 16 `vpshufb`.
void parla_qs8_lookup_avx2(const int8_t *in, int8_t *out, ptrdiff_t count, const int8_t *table);
/// The same lookup, 64 values per step with two vpermi2b (the table's halves for negative and non-negative inputs) and
/// a blend on the input's sign. Call only where parla_qs8_cpu_avx512vbmi() is 1.
void parla_qs8_lookup_avx512vbmi(const int8_t *in, int8_t *out, ptrdiff_t count, const int8_t *table);

/// y[i] = clamp(round_half_away(x[i] / scale) + zero_point, -128, 127), NaN -> zero_point (`QuantizedConversion`).
void parla_qs8_quantize_avx2(const float *x, int8_t *y, ptrdiff_t count, float scale, int32_t zero_point);
/// y[i] = scale · (float)(x[i] - zero_point) (one rounding, the reference's), 32 values per step.
void parla_qs8_dequantize_avx2(const int8_t *x, float *y, ptrdiff_t count, float scale, int32_t zero_point);

/// The depthwise, ADD and PReLU kernels for CPUs with AVX-512 F/BW/VL (`Int8KernelPath.avx512VNNI`; call only
/// where parla_qs8_cpu_avx512vnni() is 1): the same results with 32 ymm registers.
void parla_qs8_depthwise_avx512(const parla_qs8_depthwise *d, const parla_qs8_requant *rq, ptrdiff_t row_begin,
                                ptrdiff_t row_end);
void parla_qs8_add_avx512(const int8_t *a, const int8_t *b, int8_t *out, ptrdiff_t count, const parla_qs8_add *p);
/// 1 where parla_qs8_cpu_avx512vnni() is 1 and the CPU also has AVX512_VBMI (byte permutes).
int parla_qs8_cpu_avx512vbmi(void);
/// The ADD (fused PReLU or not) with input 2's scaling looked up per byte value with vpermi2b, 64 values per step
/// (call only where parla_qs8_cpu_avx512vbmi() is 1), in two steps. `_prepare`, once per parameters, writes input
/// 2's table as 4 byte planes (`planes`, 1024 bytes) and with a fused PReLU the per-channel rows (`rows`,
/// 16 + 3·(channels + 64) int32; rows[0] is 1 where the output offset is folded into the rounding constants); it returns 0, writing nothing, where the parameters need the general arithmetic (a
/// left or above-31 right output shift, an INT32_MIN multiplier, no input of multiplier 1/2). The kernel takes
/// parameters that `_prepare` accepted and what it wrote (`rows` may be NULL without PReLU); it returns 0, writing
/// nothing, for parameters that `_prepare` refuses.
int parla_qs8_add_avx512vbmi_prepare(const parla_qs8_add *p, int8_t *planes, int32_t *rows);
int parla_qs8_add_avx512vbmi(const int8_t *a, const int8_t *b, int8_t *out, ptrdiff_t count, const parla_qs8_add *p,
                              const int8_t *planes, const int32_t *rows);
void parla_qs8_prelu_avx512(const int8_t *in, int32_t input_zero_point, int8_t *out, ptrdiff_t count,
                            ptrdiff_t channels, const parla_qs8_requant *rq);
#endif

#endif
