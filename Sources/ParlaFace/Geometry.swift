/// Small vector helpers (the simd module's free functions are not available on Linux).

@inline(__always) func dot(_ a: SIMD2<Float>, _ b: SIMD2<Float>) -> Float { (a * b).sum() }
@inline(__always) func dot(_ a: SIMD3<Float>, _ b: SIMD3<Float>) -> Float { (a * b).sum() }
@inline(__always) func length(_ v: SIMD2<Float>) -> Float { dot(v, v).squareRoot() }
@inline(__always) func length(_ v: SIMD3<Float>) -> Float { dot(v, v).squareRoot() }
/// z of the 2D cross product: positive when `b` turns clockwise from `a` on screen (y down).
@inline(__always) func cross(_ a: SIMD2<Float>, _ b: SIMD2<Float>) -> Float { a.x * b.y - a.y * b.x }
@inline(__always) func xy(_ p: SIMD3<Float>) -> SIMD2<Float> { SIMD2(p.x, p.y) }

/// Twice the signed area of triangle abc; positive when a → b → c runs clockwise on screen (y down).
@inline(__always) func doubleArea(_ a: SIMD2<Float>, _ b: SIMD2<Float>, _ c: SIMD2<Float>) -> Float {
    cross(b - a, c - a)
}

/// Double-precision twice-signed-area, for validation where Float round-off matters.
@inline(__always) func doubleAreaD(_ a: SIMD2<Float>, _ b: SIMD2<Float>, _ c: SIMD2<Float>) -> Double {
    let ax = Double(a.x), ay = Double(a.y)
    return (Double(b.x) - ax) * (Double(c.y) - ay) - (Double(b.y) - ay) * (Double(c.x) - ax)
}

/// Hermite smoothstep from 1 at `t <= 0` to 0 at `t >= 1`.
@inline(__always) func falloff(_ t: Float) -> Float {
    let x = min(max(t, 0), 1)
    return 1 - x * x * (3 - 2 * x)
}
