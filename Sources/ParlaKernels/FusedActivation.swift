/// The activation applied to an op's output before it is stored (TFLite's "fused activation").
public enum FusedActivation: String, Sendable, Equatable, Codable, CaseIterable {
    /// No activation: the value is stored as computed.
    case none
    /// max(x, 0).
    case relu
    /// min(max(x, 0), 6).
    case relu6

    /// The smallest value the activation lets through.
    @inlinable public var lowerBound: Float {
        switch self {
        case .none: return -Float.infinity
        case .relu, .relu6: return 0
        }
    }

    /// The largest value the activation lets through.
    @inlinable public var upperBound: Float {
        switch self {
        case .none, .relu: return Float.infinity
        case .relu6: return 6
        }
    }

    /// Applies the activation to one value (scalar reference path).
    @inlinable public func apply(_ x: Float) -> Float {
        switch self {
        case .none: return x
        case .relu: return x > 0 ? x : 0
        case .relu6: return x > 6 ? 6 : (x > 0 ? x : 0)
        }
    }
}

extension SIMD8 where Scalar == Float {
    /// Clamps every lane into `lower...upper` (±infinity bounds leave values unchanged).
    @inlinable func clamped(lower: Float, upper: Float) -> SIMD8<Float> {
        if lower == -.infinity && upper == .infinity { return self }  // no activation: skip the selects
        var v = self
        v.replace(with: SIMD8(repeating: lower), where: v .< lower)
        v.replace(with: SIMD8(repeating: upper), where: v .> upper)
        return v
    }
}

/// Clamps a scalar into `lower...upper` (fast-path helper matching `SIMD8.clamped`).
@inlinable func clampScalar(_ x: Float, lower: Float, upper: Float) -> Float {
    x < lower ? lower : (x > upper ? upper : x)
}
