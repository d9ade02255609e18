import CParlaDot

/// A 256-entry table for an int8 → int8 elementwise function under fixed input/output quantization, built once
/// at model load. Entries are computed in Float with only `+ - * /`, min/max and rounding (IEEE, no libm), so
/// they are identical on every platform; applying the table is exact by construction.
public struct Int8LookupTable: Sendable, Equatable {
    /// `table[Int(x) + 128]` is the output for input `x`.
    public let table: [Int8]

    /// Tabulates `function` (real → real) between the given quantizations.
    public init(input: QuantizationParameters, output: QuantizationParameters, function: (Float) -> Float) {
        table = (-128...127).map { q in
            QuantizedConversion.quantize(function(input.scale * Float(Int32(q) - input.zeroPoint)), output)
        }
    }

    /// HARD_SWISH: `x · relu6(x + 3) / 6`.
    public static func hardSwish(input: QuantizationParameters, output: QuantizationParameters) -> Int8LookupTable {
        Int8LookupTable(input: input, output: output, function: hardSwishReference)
    }

    /// The real HARD_SWISH function the table samples.
    public static func hardSwishReference(_ x: Float) -> Float { x * min(max(x + 3, 0), 6) / 6 }

    /// LOGISTIC: `1 / (1 + e^-x)`, with e^x from `Logistic.exponential` (no libm, identical on every platform and
    /// in Tools/lib/quantize.py `lookup_table`).
    public static func logistic(input: QuantizationParameters, output: QuantizationParameters) -> Int8LookupTable {
        Int8LookupTable(input: input, output: output, function: logisticReference)
    }

    /// The real LOGISTIC function the table samples (double precision, rounded to float).
    public static func logisticReference(_ x: Float) -> Float { Float(1 / (1 + Logistic.exponential(-Double(x)))) }

    /// Plain scalar reference: looks each value up.
    public func reference(_ input: UnsafeBufferPointer<Int8>, output: UnsafeMutableBufferPointer<Int8>) {
        precondition(input.count >= output.count, "lookup: input too small")
        for i in 0..<output.count { output[i] = table[Int(input[i]) + 128] }
    }

    /// Fast lookup, identical to `reference`: on x86-64 with AVX2 CParlaQS8's 32-lane `vpshufb` walk over 16
    /// sub-tables, on `.avx512VNNI` CPUs that also have AVX-512 VBMI two 64-lane `vpermi2b` and a blend; elsewhere an unrolled loop through a raw table pointer (no bounds checks).
    /// - Parameter path: the implementation (`Int8KernelPath.best` unless a test picks one).
    public func fast(_ input: UnsafeBufferPointer<Int8>, output: UnsafeMutableBufferPointer<Int8>,
                     path: Int8KernelPath = .best) {
        precondition(input.count >= output.count, "lookup: input too small")
        precondition(Int8KernelPath.isAvailable(path), "lookup: this CPU cannot run \(path)")
        guard let x = input.baseAddress, let y = output.baseAddress else { return }
        table.withUnsafeBufferPointer { tb in
            #if arch(x86_64)
            if path == .avx512VNNI && Int8KernelPath.hasAVX512VBMI {
                parla_qs8_lookup_avx512vbmi(x, y, output.count, tb.baseAddress!)
                return
            }
            if path.usesAVX2 {
                parla_qs8_lookup_avx2(x, y, output.count, tb.baseAddress!)
                return
            }
            #endif
            let t = tb.baseAddress! + 128
            let n = output.count
            var i = 0
            while i + 4 <= n {
                y[i] = t[Int(x[i])]; y[i + 1] = t[Int(x[i + 1])]; y[i + 2] = t[Int(x[i + 2])]; y[i + 3] = t[Int(x[i + 3])]
                i += 4
            }
            while i < n { y[i] = t[Int(x[i])]; i += 1 }
        }
    }
}
