import CParlaDot

/// Which implementation the fp32 `Conv2D.fast` runs. Both match `Conv2D.reference` up to float rounding (the same
/// order of additions; the x86 path rounds each product-add once, with FMA); the tests run every path this CPU has.
public enum Float32KernelPath: Sendable, CaseIterable {
    /// The Swift SIMD kernel: the portable default (NEON on aarch64, SSE2 on baseline x86-64).
    case swiftSIMD
    /// CParlaF32's AVX2 + FMA convolution (x86-64 CPUs with AVX2 and FMA, checked with CPUID at first use).
    case avx2FMA

    /// The fastest path this CPU runs (checked once).
    public static let best: Float32KernelPath = isAvailable(.avx2FMA) ? .avx2FMA : .swiftSIMD

    /// True when this CPU (and build) can run `path`.
    public static func isAvailable(_ path: Float32KernelPath) -> Bool {
        switch path {
        case .swiftSIMD: return true
        case .avx2FMA: return hasAVX2FMA
        }
    }

    /// The paths this CPU can run.
    public static var available: [Float32KernelPath] { allCases.filter(isAvailable) }

    private static let hasAVX2FMA: Bool = {
        #if arch(x86_64)
        return parla_f32_cpu_avx2fma() != 0
        #else
        return false
        #endif
    }()
}
