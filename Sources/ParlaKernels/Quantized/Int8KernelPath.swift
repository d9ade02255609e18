import CParlaDot

/// Which implementation the int8 `fast` kernels (conv, fully connected, depthwise, ADD, PReLU, MUL, table lookups,
/// quantize) run. All paths are bit-exact with the scalar references; the tests run every path this CPU can execute.
public enum Int8KernelPath: Sendable, CaseIterable {
    /// The Swift SIMD kernels: the portable default (NEON on aarch64, SSE2 on baseline x86-64).
    case swiftSIMD
    /// CParlaQS8's AVX2 kernels (x86-64 CPUs with AVX2, checked with CPUID at first use).
    case avx2
    /// The AVX2 kernels with the conv / fully connected GEMM on AVX-VNNI `vpdpbusd` (x86-64 CPUs with AVX-VNNI).
    case avxVNNI
    /// The conv / fully connected GEMM (im2col included) on AVX-512 VNNI: EVEX `vpdpbusd` on ZMM registers, a
    /// 16-lane epilogue; the depthwise, ADD and PReLU kernels compiled with AVX-512 VL (32 vector registers, mask
    /// registers), the ADD and the int8 table lookup on CPUs that also have AVX512_VBMI with byte permutes
    /// (`hasAVX512VBMI`); the other ops as on `.avx2` (x86-64 CPUs with AVX-512 F/BW/VL and AVX512_VNNI, e.g.
    /// AMD Zen 4, Intel Ice Lake and later servers; many of them lack the VEX AVX-VNNI).
    case avx512VNNI

    /// The fastest path this CPU runs (checked once).
    public static let best: Int8KernelPath = isAvailable(.avx512VNNI) ? .avx512VNNI : isAvailable(.avxVNNI) ? .avxVNNI
        : isAvailable(.avx2) ? .avx2 : .swiftSIMD

    /// True when this CPU (and build) can run `path`.
    public static func isAvailable(_ path: Int8KernelPath) -> Bool {
        switch path {
        case .swiftSIMD: return true
        case .avx2: return hasAVX2
        case .avxVNNI: return hasAVXVNNI
        case .avx512VNNI: return hasAVX512VNNI
        }
    }

    /// True for the paths that run CParlaQS8's AVX2 kernels (for every op but the GEMM, all three x86 paths do).
    var usesAVX2: Bool { self != .swiftSIMD }

    /// The paths this CPU can run.
    public static var available: [Int8KernelPath] { allCases.filter(isAvailable) }

    private static let hasAVX2: Bool = {
        #if arch(x86_64)
        return parla_qs8_cpu_avx2() != 0
        #else
        return false
        #endif
    }()

    private static let hasAVXVNNI: Bool = {
        #if arch(x86_64)
        return parla_qs8_cpu_avxvnni() != 0
        #else
        return false
        #endif
    }()

    /// True where the `.avx512VNNI` path runs and the CPU also has AVX512_VBMI (byte permutes): the ADD and the
    /// table lookup then take their VBMI kernels on that path.
    static let hasAVX512VBMI: Bool = {
        #if arch(x86_64)
        return hasAVX512VNNI && parla_qs8_cpu_avx512vbmi() != 0
        #else
        return false
        #endif
    }()

    private static let hasAVX512VNNI: Bool = {
        #if arch(x86_64)
        return parla_qs8_cpu_avx512vnni() != 0
        #else
        return false
        #endif
    }()
}
