import CParlaDot

/// Int8 elementwise addition of two tensors with different scales, TFLite's ADD int8 formulation: both inputs
/// are shifted left by 20 bits, scaled to a common scale `2·max(s1, s2)` with Q31 multipliers, added, and
/// scaled to the output. With `preluSlopes` a PReLU is fused: a negative sum uses `output·slope[c]` as its
/// output multiplier (the `Requantizer` two-branch rule; `Tools/lib/quantize.py` `add_multipliers`).
public enum QuantizedAdd {
    /// TFLite's left shift for int8 ADD.
    public static let leftShift: Int32 = 20

    /// Fixed-point parameters of one ADD, computed once at model load.
    public struct Parameters: Sendable, Equatable {
        public let input1Offset: Int32, input2Offset: Int32, outputOffset: Int32
        public let input1: QuantizedMultiplier, input2: QuantizedMultiplier, output: QuantizedMultiplier
        public let activationMin: Int32, activationMax: Int32
        /// Output multipliers of negative sums per channel (fused PReLU), or nil.
        public let negative: [QuantizedMultiplier]?
        // Split copies of `negative` for SIMD loads (empty without PReLU).
        let negativeMultipliers: [Int32], negativeShifts: [Int32]
        /// Without PReLU: every output, `table[UInt8(a) << 8 | UInt8(b)]` (65 536 values, built once with the
        /// vector arithmetic, which is bit-exact with `apply`); empty with PReLU.
        private(set) var table: [Int8] = []
        /// On AVX-512 VBMI CPUs, where that kernel takes these parameters: input 2's table as 4 byte planes (1024
        /// bytes) and with PReLU a header of 16 and the per-channel rows, 3·(channels + 64) values, `vbmiRows[0]` 1
        /// where the output offset is folded into their rounding constants (`parla_qs8_add_avx512vbmi_prepare`);
        /// empty otherwise.
        private(set) var vbmiPlanes: [Int8] = [], vbmiRows: [Int32] = []

        /// TFLite `PrepareGeneralSubOp`/ADD: `twiceMax = 2·max(s1, s2)`, input multipliers `s_i / twiceMax`,
        /// output multiplier `twiceMax / (2^20 · outScale)`.
        public init(input1: QuantizationParameters, input2: QuantizationParameters, output: QuantizationParameters,
                    activation: FusedActivation = .none, preluSlopes: [Float]? = nil) {
            let twiceMax = 2 * max(Double(input1.scale), Double(input2.scale))
            input1Offset = -input1.zeroPoint
            input2Offset = -input2.zeroPoint
            outputOffset = output.zeroPoint
            self.input1 = QuantizedMultiplier(realScale: Double(input1.scale) / twiceMax)
            self.input2 = QuantizedMultiplier(realScale: Double(input2.scale) / twiceMax)
            let realOutput = twiceMax / (Double(1 << QuantizedAdd.leftShift) * Double(output.scale))
            self.output = QuantizedMultiplier(realScale: realOutput)
            precondition(preluSlopes.map { !$0.isEmpty } ?? true, "qadd: empty PReLU slopes")
            negative = preluSlopes?.map { QuantizedMultiplier(realScale: realOutput * Double($0)) }
            negativeMultipliers = negative?.map(\.multiplier) ?? []
            negativeShifts = negative?.map(\.shift) ?? []
            // The fast paths scale the inputs with `FixedPoint.shiftedInputHighMul` (32-bit products), which needs
            // |x − zeroPoint| ≤ 256 (int8 zero points) and no left shift (`s_i / twiceMax ≤ 0.5`).
            precondition(self.input1.shift <= 0 && self.input2.shift <= 0, "qadd: input multiplier above 1/2")
            precondition(self.input1.multiplier >= 0 && self.input2.multiplier >= 0, "qadd: negative input scale")
            let range = output.activationRange(activation)
            activationMin = range.lowerBound
            activationMax = range.upperBound
            #if arch(x86_64)
            if Int8KernelPath.hasAVX512VBMI {
                var planes = [Int8](repeating: 0, count: 1024)
                var rows = [Int32](repeating: 0, count: negative.map { 16 + 3 * ($0.count + 64) } ?? 0)
                let accepted = QuantizedAdd.withCParameters(self) { c in
                    planes.withUnsafeMutableBufferPointer { pb in
                        rows.withUnsafeMutableBufferPointer { rb in parla_qs8_add_avx512vbmi_prepare(&c, pb.baseAddress, rb.baseAddress) }
                    }
                }
                if accepted != 0 { (vbmiPlanes, vbmiRows) = (planes, rows) }
            }
            #endif
            if negative == nil { table = QuantizedAdd.lookupTable(self) }
        }

        /// One output value of channel `channel` (the scalar reference formula).
        @inlinable public func apply(_ a: Int8, _ b: Int8, channel: Int = 0) -> Int8 {
            let x1 = (input1Offset + Int32(a)) << QuantizedAdd.leftShift
            let x2 = (input2Offset + Int32(b)) << QuantizedAdd.leftShift
            let sum = input1.apply(x1) &+ input2.apply(x2)
            let m = sum < 0 ? (negative?[channel] ?? output) : output
            let raw = m.apply(sum) &+ outputOffset
            return Int8(min(max(raw, activationMin), activationMax))
        }
    }

    /// Plain scalar reference over `output.count` values (laid out `[..., channels]` with a fused PReLU).
    public static func reference(_ a: UnsafeBufferPointer<Int8>, _ b: UnsafeBufferPointer<Int8>,
                                 output: UnsafeMutableBufferPointer<Int8>, parameters: Parameters) {
        let channels = checkSizes(a.count, b.count, output.count, parameters)
        for i in 0..<output.count { output[i] = parameters.apply(a[i], b[i], channel: i % channels) }
    }

    static func checkSizes(_ a: Int, _ b: Int, _ output: Int, _ parameters: Parameters) -> Int {
        precondition(a >= output && b >= output, "qadd: inputs too small")
        let channels = parameters.negative?.count ?? 1
        precondition(output % channels == 0, "qadd: output is not a whole number of pixels of \(channels) channels")
        return channels
    }

    /// Fast version, bit-exact with `reference`. On CPUs with AVX-512 VBMI the byte-permute kernel (input 2's
    /// scaling looked up per byte value, `parla_qs8_add_avx512vbmi`) where its parameters fit; otherwise, without
    /// PReLU, one lookup per value in `Parameters.table`, with a fused PReLU the vector arithmetic of `arithmetic`.
    /// - Parameter path: the implementation (`Int8KernelPath.best` unless a test picks one).
    public static func fast(_ a: UnsafeBufferPointer<Int8>, _ b: UnsafeBufferPointer<Int8>,
                            output: UnsafeMutableBufferPointer<Int8>, parameters p: Parameters,
                            path: Int8KernelPath = .best) {
        fast(a, b, output: output, parameters: p, path: path, byteTable: true)
    }

    /// `fast`; `byteTable: false` keeps the AVX-512 path off the VBMI kernel (tests of the kernels that CPUs without
    /// VBMI run).
    static func fast(_ a: UnsafeBufferPointer<Int8>, _ b: UnsafeBufferPointer<Int8>,
                     output: UnsafeMutableBufferPointer<Int8>, parameters p: Parameters,
                     path: Int8KernelPath, byteTable: Bool) {
        _ = checkSizes(a.count, b.count, output.count, p)
        precondition(Int8KernelPath.isAvailable(path), "qadd: this CPU cannot run \(path)")
        guard let x = a.baseAddress, let y = b.baseAddress, let z = output.baseAddress else { return }
        if byteTable && byteTableKernel(a, b, output: output, parameters: p, path: path) { return }
        if p.table.isEmpty {
            arithmetic(a, b, output: output, parameters: p, path: path)
            return
        }
        p.table.withUnsafeBufferPointer { tb in
            let t = tb.baseAddress!
            for i in 0..<output.count {
                let index: Int = Int(UInt8(bitPattern: x[i])) &<< 8 | Int(UInt8(bitPattern: y[i]))
                z[i] = t[index]
            }
        }
    }

    /// `p` as the C kernels' parameters (the PReLU rows are `nm`/`ns`, nil without PReLU).
    fileprivate static func withCParameters<R>(_ p: Parameters, _ body: (inout parla_qs8_add) -> R) -> R {
        p.negativeMultipliers.withUnsafeBufferPointer { nm in
            p.negativeShifts.withUnsafeBufferPointer { ns in
                var c = parla_qs8_add(
                    input1_offset: p.input1Offset, input2_offset: p.input2Offset, output_offset: p.outputOffset,
                    input1_multiplier: p.input1.multiplier, input1_shift: p.input1.shift,
                    input2_multiplier: p.input2.multiplier, input2_shift: p.input2.shift,
                    output_multiplier: p.output.multiplier, output_shift: p.output.shift,
                    activation_min: p.activationMin, activation_max: p.activationMax,
                    negative_multipliers: p.negative == nil ? nil : nm.baseAddress,
                    negative_shifts: p.negative == nil ? nil : ns.baseAddress, channels: p.negative?.count ?? 1)
                return body(&c)
            }
        }
    }

    /// Runs the VBMI byte-permute kernel on the AVX-512 path where the CPU has it and the parameters fit; false
    /// where it did not run.
    private static func byteTableKernel(_ a: UnsafeBufferPointer<Int8>, _ b: UnsafeBufferPointer<Int8>,
                                        output: UnsafeMutableBufferPointer<Int8>, parameters p: Parameters,
                                        path: Int8KernelPath) -> Bool {
        #if arch(x86_64)
        guard path == .avx512VNNI, !p.vbmiPlanes.isEmpty, let x = a.baseAddress, let y = b.baseAddress,
              let z = output.baseAddress else { return false }
        return withCParameters(p) { c in
            p.vbmiPlanes.withUnsafeBufferPointer { planes in
                p.vbmiRows.withUnsafeBufferPointer { rows in
                    parla_qs8_add_avx512vbmi(x, y, z, output.count, &c, planes.baseAddress, p.negative == nil ? nil : rows.baseAddress)
                }
            }
        } != 0
        #else
        return false
        #endif
    }

    /// The 256 × 256 outputs of `p` with the vector arithmetic (a the high byte of the index, b the low one).
    static func lookupTable(_ p: Parameters) -> [Int8] {
        let a: [Int8] = (0..<65_536).map { Int8(truncatingIfNeeded: $0 >> 8) }
        let b: [Int8] = (0..<65_536).map { Int8(truncatingIfNeeded: $0) }
        var table = [Int8](repeating: 0, count: 65_536)
        a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                table.withUnsafeMutableBufferPointer { z in arithmetic(x, y, output: z, parameters: p, path: .best) }
            }
        }
        return table
    }

    /// The vector arithmetic, 8 values per step (with a fused PReLU, 4 channels per step inside each pixel);
    /// bit-exact with `reference`.
    static func arithmetic(_ a: UnsafeBufferPointer<Int8>, _ b: UnsafeBufferPointer<Int8>,
                           output: UnsafeMutableBufferPointer<Int8>, parameters p: Parameters,
                           path: Int8KernelPath) {
        let channels = checkSizes(a.count, b.count, output.count, p)
        precondition(Int8KernelPath.isAvailable(path), "qadd: this CPU cannot run \(path)")
        guard let x = a.baseAddress, let y = b.baseAddress, let z = output.baseAddress else { return }
        let n = output.count
        #if arch(x86_64)
        if path.usesAVX2 {
            withCParameters(p) { c in
                if path == .avx512VNNI { parla_qs8_add_avx512(x, y, z, n, &c) } else { parla_qs8_add_avx2(x, y, z, n, &c) }
            }
            return
        }
        #endif
        let mo = SIMD4<Int32>(repeating: p.output.multiplier), so = SIMD4<Int32>(repeating: p.output.shift)
        let oo = SIMD4<Int32>(repeating: p.outputOffset)
        let in1 = ScaledInput(offset: p.input1Offset, multiplier: p.input1)
        let in2 = ScaledInput(offset: p.input2Offset, multiplier: p.input2)
        @inline(__always) func sum(_ va: SIMD4<Int8>, _ vb: SIMD4<Int8>) -> SIMD4<Int32> { in1(va) &+ in2(vb) }
        @inline(__always) func load4(_ base: UnsafePointer<Int8>, _ i: Int) -> SIMD4<Int8> {
            UnsafeRawPointer(base + i).loadUnaligned(as: SIMD4<Int8>.self)
        }
        if p.negative != nil {
            // Fused PReLU: the output multiplier of each lane is the channel's negative one where the sum is < 0.
            p.negativeMultipliers.withUnsafeBufferPointer { nmb in
                p.negativeShifts.withUnsafeBufferPointer { nsb in
                    let nm = nmb.baseAddress!, ns = nsb.baseAddress!
                    var i = 0
                    while i < n {
                        var c = 0
                        while c + 4 <= channels {
                            let v = sum(load4(x, i + c), load4(y, i + c))
                            let negative = v &>> 31
                            let m = mo ^ ((mo ^ UnsafeRawPointer(nm + c).loadUnaligned(as: SIMD4<Int32>.self)) & negative)
                            let s = so ^ ((so ^ UnsafeRawPointer(ns + c).loadUnaligned(as: SIMD4<Int32>.self)) & negative)
                            let r = clamped(v.multipliedByQuantized(m, shift: s) &+ oo, p.activationMin, p.activationMax)
                            UnsafeMutableRawPointer(z + i + c).storeBytes(of: narrow(r), as: SIMD4<Int8>.self)
                            c += 4
                        }
                        while c < channels { z[i + c] = p.apply(x[i + c], y[i + c], channel: c); c += 1 }
                        i += channels
                    }
                }
            }
            return
        }
        var i = 0
        while i + 8 <= n {
            let lo = clamped(sum(load4(x, i), load4(y, i)).multipliedByQuantized(uniform: p.output.multiplier,
                                                                                  shift: p.output.shift) &+ oo,
                             p.activationMin, p.activationMax)
            let hi = clamped(sum(load4(x, i + 4), load4(y, i + 4)).multipliedByQuantized(uniform: p.output.multiplier,
                                                                                          shift: p.output.shift) &+ oo,
                             p.activationMin, p.activationMax)
            UnsafeMutableRawPointer(z + i).storeBytes(of: SIMD8(lowHalf: narrow(lo), highHalf: narrow(hi)), as: SIMD8<Int8>.self)
            i += 8
        }
        while i < n { z[i] = p.apply(x[i], y[i]); i += 1 }
    }
}

/// One ADD input scaled to the common scale, `rdbpot(SRDHM((x + offset) << 20, m), −shift)` (shift ≤ 0, m ≥ 0,
/// see `Parameters.init`) as one expression with 32-bit products only: with v = x + offset, SRDHM is
/// `v·(m >> 11) + ((v·(m & 2047) + 2^10) >> 11)` (`FixedPoint.shiftedInputHighMul`), and the rounding divide by
/// 2^r (ties away from zero) merges with its floor into `(h' + 2^(r−1) + (v >> 31)) >> r` (docs/int8-kernels.md);
/// the input whose multiplier is exactly 1/2 (2^30, shift 0: the larger scale) is `v << 19`.
private struct ScaledInput {
    let offset: SIMD4<Int32>, rounding: SIMD4<Int32>, right: SIMD4<Int32>
    let split: (high: Int32, low: Int32)
    let plain: Bool, rounds: Bool

    init(offset: Int32, multiplier: QuantizedMultiplier) {
        let r = -multiplier.shift
        split = FixedPoint.splitMultiplier(multiplier.multiplier)
        self.offset = SIMD4(repeating: offset)
        rounding = SIMD4(repeating: r > 0 ? 1 << (r - 1) : 0)
        right = SIMD4(repeating: r)
        plain = multiplier.multiplier == 1 << 30 && r == 0
        rounds = r > 0
    }

    @inline(__always) func callAsFunction(_ x: SIMD4<Int8>) -> SIMD4<Int32> {
        let v = widen(x) &+ offset
        if plain { return v &<< 19 }
        let h = v.shiftedInputHighMul(uniform: split)
        return rounds ? (h &+ rounding &+ (v &>> 31)) &>> right : h
    }
}
