import CParlaDot

/// The per-output-channel epilogue of every int8 op that produces new scales (conv, depthwise, fully connected,
/// PReLU): an int32 value `v` (the accumulator `Σ (x - inZp)·w + bias`, or `x - inZp` for a standalone PReLU) becomes
///
///     q = clamp(outZp + (v >= 0 ? MBQM(v, positive[c]) : MBQM(v, negative[c])), activationMin, activationMax)
///
/// with MBQM = TFLite `MultiplyByQuantizedMultiplier`. Without PReLU `negative == positive`, which is exactly TFLite's
/// per-channel conv requantization. With PReLU this is TFLite's int8 PRELU formulation (identity multiplier for
/// `v >= 0`, alpha multiplier for `v < 0`, both applied to the value relative to the zero point), with the alpha
/// folded into a per-channel real scale `slope[c]·scaleOf(v)/outScale` instead of an int8 alpha tensor, so a
/// PReLU after a conv fuses into the conv's epilogue without an intermediate int8 tensor.
public struct Requantizer: Sendable, Equatable {
    /// Output channels (the last dimension).
    public let channels: Int
    /// Added after scaling.
    public let outputZeroPoint: Int32
    /// Lower clamp (fused ReLU/ReLU6 or -128).
    public let activationMin: Int32
    /// Upper clamp (fused ReLU6 or 127).
    public let activationMax: Int32
    /// Multipliers for `v >= 0`, one per channel.
    public let positive: [QuantizedMultiplier]
    /// Multipliers for `v < 0`, one per channel (equal to `positive` without PReLU).
    public let negative: [QuantizedMultiplier]
    /// True if some channel's negative multiplier differs from its positive one.
    public let hasNegativeBranch: Bool
    // Split copies for SIMD loads, padded with the last channel's values to a multiple of 16.
    let positiveMultipliers: [Int32], positiveShifts: [Int32], negativeMultipliers: [Int32], negativeShifts: [Int32]
    /// The C kernels' table (`parla_qs8_requant`): 6 rows of the padded channel count — positive multiplier,
    /// max(shift, 0), max(-shift, 0), then the negative branch's three.
    let cTable: [Int32]
    /// No shift is positive and no multiplier is Int32.min: the C kernels then skip the left shift and the
    /// saturation fix (QuantizeMultiplier of a real scale below 1 always gives this).
    let isSimple: Bool

    /// A requantizer from explicit fixed-point multipliers.
    public init(positive: [QuantizedMultiplier], negative: [QuantizedMultiplier]? = nil, outputZeroPoint: Int32,
                activationRange: ClosedRange<Int32> = -128...127) {
        precondition(!positive.isEmpty, "requantizer: no channels")
        precondition(negative.map { $0.count == positive.count } ?? true, "requantizer: negative count differs")
        precondition((-128...127).contains(outputZeroPoint), "requantizer: output zero point outside int8")
        precondition(activationRange.lowerBound >= -128 && activationRange.upperBound <= 127,
                     "requantizer: activation range outside int8")
        channels = positive.count
        self.outputZeroPoint = outputZeroPoint
        activationMin = activationRange.lowerBound
        activationMax = activationRange.upperBound
        self.positive = positive
        self.negative = negative ?? positive
        hasNegativeBranch = self.negative != positive
        let padded = (channels + 15) / 16 * 16
        func split(_ m: [QuantizedMultiplier], _ f: (QuantizedMultiplier) -> Int32) -> [Int32] {
            (0..<padded).map { f(m[min($0, m.count - 1)]) }
        }
        positiveMultipliers = split(positive) { $0.multiplier }
        positiveShifts = split(positive) { $0.shift }
        negativeMultipliers = split(self.negative) { $0.multiplier }
        negativeShifts = split(self.negative) { $0.shift }
        isSimple = (positive + self.negative).allSatisfy { $0.shift <= 0 && $0.multiplier != Int32.min }
        cTable = positiveMultipliers + positiveShifts.map { max($0, 0) } + positiveShifts.map { max(-$0, 0) }
            + negativeMultipliers + negativeShifts.map { max($0, 0) } + negativeShifts.map { max(-$0, 0) }
    }

    /// The requantizer of a convolution (dense, depthwise or fully connected) with per-channel weight scales:
    /// real multiplier `inputScale·weightScale[c]/outputScale`; `preluSlopes` (one per channel) fuses a PReLU.
    public static func convolution(inputScale: Float, weightScales: [Float], output: QuantizationParameters,
                                   activation: FusedActivation = .none, preluSlopes: [Float]? = nil) -> Requantizer {
        precondition(preluSlopes.map { $0.count == weightScales.count } ?? true, "requantizer: slope count differs")
        let scales = weightScales.map { Double(inputScale) * Double($0) / Double(output.scale) }
        let negative = preluSlopes.map { slopes in
            zip(scales, slopes).map { QuantizedMultiplier(realScale: $0 * Double($1)) }
        }
        return Requantizer(positive: scales.map { QuantizedMultiplier(realScale: $0) }, negative: negative,
                           outputZeroPoint: output.zeroPoint, activationRange: output.activationRange(activation))
    }

    /// The requantizer of a standalone int8 PReLU (apply to `x - input.zeroPoint`).
    public static func prelu(input: QuantizationParameters, slopes: [Float], output: QuantizationParameters) -> Requantizer {
        let identity = Double(input.scale) / Double(output.scale)
        return Requantizer(positive: Array(repeating: QuantizedMultiplier(realScale: identity), count: slopes.count),
                           negative: slopes.map { QuantizedMultiplier(realScale: identity * Double($0)) },
                           outputZeroPoint: output.zeroPoint)
    }

    /// Scalar epilogue for one value of channel `channel`.
    @inlinable public func apply(_ value: Int32, channel: Int) -> Int8 {
        let m = value >= 0 ? positive[channel] : negative[channel]
        let q = outputZeroPoint &+ m.apply(value)
        return Int8(min(max(q, activationMin), activationMax))
    }
}

extension Requantizer {
    /// SIMD epilogue for 4 consecutive channels starting at `channel` (`channel + 4 <= padded channel count`).
    @inline(__always)
    func apply(_ v: SIMD4<Int32>, channel: Int, pm: UnsafePointer<Int32>, ps: UnsafePointer<Int32>,
               nm: UnsafePointer<Int32>, ns: UnsafePointer<Int32>) -> SIMD4<Int32> {
        // Vector loads of the channel tables and the branch-free lane-wise MBQM; the PReLU branch is a bit select.
        @inline(__always) func load(_ p: UnsafePointer<Int32>) -> SIMD4<Int32> {
            UnsafeRawPointer(p + channel).loadUnaligned(as: SIMD4<Int32>.self)
        }
        var m = load(pm), s = load(ps)
        if hasNegativeBranch {
            let negative = v &>> 31
            m ^= (m ^ load(nm)) & negative
            s ^= (s ^ load(ns)) & negative
        }
        return clamped(v.multipliedByQuantized(m, shift: s) &+ SIMD4(repeating: outputZeroPoint), activationMin, activationMax)
    }

    /// Runs `body` with the C kernels' view of this requantizer (valid only inside `body`).
    @inline(__always)
    func withCRequantizer<R>(_ body: (UnsafePointer<parla_qs8_requant>) -> R) -> R {
        cTable.withUnsafeBufferPointer { table in
            var rq = parla_qs8_requant(table: table.baseAddress!, stride: table.count / 6, zero_point: outputZeroPoint,
                                       activation_min: activationMin, activation_max: activationMax,
                                       has_negative: hasNegativeBranch ? 1 : 0, simple: isSimple ? 1 : 0)
            return withUnsafePointer(to: &rq) { body($0) }
        }
    }

    /// Runs `body` with pointers to the padded multiplier/shift arrays (positive m, s, negative m, s).
    @inline(__always)
    func withTables<R>(_ body: (UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Int32>, UnsafePointer<Int32>) -> R) -> R {
        positiveMultipliers.withUnsafeBufferPointer { pm in
            positiveShifts.withUnsafeBufferPointer { ps in
                negativeMultipliers.withUnsafeBufferPointer { nm in
                    negativeShifts.withUnsafeBufferPointer { ns in
                        body(pm.baseAddress!, ps.baseAddress!, nm.baseAddress!, ns.baseAddress!)
                    }
                }
            }
        }
    }
}

/// Narrows 4 int32 lanes already clamped to int8 and stores `lanes` of them.
@inline(__always)
func storeInt8(_ q: SIMD4<Int32>, to p: UnsafeMutablePointer<Int8>, lanes: Int) {
    let n = narrow(q)
    if lanes >= 4 {
        UnsafeMutableRawPointer(p).storeBytes(of: n, as: SIMD4<Int8>.self)
    } else {
        for l in 0..<lanes { p[l] = n[l] }
    }
}
