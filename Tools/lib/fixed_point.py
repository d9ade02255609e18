"""TFLite's integer requantization arithmetic in numpy, bit for bit (reference_ops / gemmlowp semantics).

The Swift int8 kernels (Sources/ParlaKernels/Quantized) implement the same functions; the quantizer's
simulation (quantize.simulate) uses these to predict the executor's exact int8 outputs.
"""
import math

import numpy as np

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def quantize_multiplier(real: float):
    """TFLite QuantizeMultiplier: real = q / 2^31 * 2^shift with q in [2^30, 2^31) (sign kept), as ints."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = int(math.copysign(math.floor(abs(q) * (1 << 31) + 0.5), q))  # std::round: half away from zero
    if abs(q_fixed) == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if q_fixed == (1 << 31):
        q_fixed = INT32_MAX
    return q_fixed, shift


def srdhm(a, b):
    """SaturatingRoundingDoublingHighMul on int64 arrays holding int32 values; b may be an array per channel."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, np.int64(1 << 30), np.int64(1 - (1 << 30)))
    s = ab + nudge
    # C++ integer division truncates toward zero.
    q = np.where(s >= 0, s // (1 << 31), -((-s) // (1 << 31)))
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    return np.where(overflow, np.int64(INT32_MAX), q)


def rounding_divide_by_pot(x, exponent):
    """RoundingDivideByPOT: x / 2^exponent rounded half away from zero (exponent >= 0, per element allowed)."""
    x = np.asarray(x, dtype=np.int64)
    e = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0).astype(np.int64)
    return (x >> e) + (remainder > threshold).astype(np.int64)


def multiply_by_quantized_multiplier(x, multiplier, shift):
    """MultiplyByQuantizedMultiplier (the double-rounding form): int32 x times multiplier·2^(shift-31)."""
    x = np.asarray(x, dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    shifted = x * (np.int64(1) << left)
    # x << left saturates like int32 in TFLite only in pathological cases; keep it exact and check.
    assert np.all(shifted <= INT32_MAX) and np.all(shifted >= INT32_MIN), "requantization overflow"
    return rounding_divide_by_pot(srdhm(shifted, multiplier), right)


def round_half_away(v):
    """std::round on float arrays."""
    v = np.asarray(v)
    return np.sign(v) * np.floor(np.abs(v) + 0.5)
