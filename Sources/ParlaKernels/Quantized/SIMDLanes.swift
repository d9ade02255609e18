// Lane conversions written lane by lane. The standard library's generic `SIMDn<T>(truncatingIfNeeded:)` between
// scalar types compiles to an out-of-line call in Swift 6 (seen in objdump of the release build); these forms
// inline and LLVM turns them into vector sign extensions / packs.

@inline(__always) func widen(_ v: SIMD4<Int8>) -> SIMD4<Int32> {
    SIMD4(Int32(v[0]), Int32(v[1]), Int32(v[2]), Int32(v[3]))
}

@inline(__always) func widen(_ v: SIMD4<Int16>) -> SIMD4<Int32> {
    SIMD4(Int32(v[0]), Int32(v[1]), Int32(v[2]), Int32(v[3]))
}

@inline(__always) func widen(_ v: SIMD8<Int8>) -> SIMD8<Int32> {
    SIMD8(lowHalf: widen(v.lowHalf), highHalf: widen(v.highHalf))
}

@inline(__always) func narrow(_ v: SIMD4<Int32>) -> SIMD4<Int8> {
    SIMD4(Int8(truncatingIfNeeded: v[0]), Int8(truncatingIfNeeded: v[1]), Int8(truncatingIfNeeded: v[2]),
          Int8(truncatingIfNeeded: v[3]))
}

@inline(__always) func narrow(_ v: SIMD8<Int32>) -> SIMD8<Int8> {
    SIMD8(lowHalf: narrow(v.lowHalf), highHalf: narrow(v.highHalf))
}

@inline(__always) func toFloat(_ v: SIMD8<Int32>) -> SIMD8<Float> {
    SIMD8(Float(v[0]), Float(v[1]), Float(v[2]), Float(v[3]), Float(v[4]), Float(v[5]), Float(v[6]), Float(v[7]))
}

/// Sign-extends the low and high int16 halves of each int32 lane: `(even, odd)` lanes of the int16 view.
@inline(__always) func splitPairs(_ v: SIMD4<Int32>) -> (even: SIMD4<Int32>, odd: SIMD4<Int32>) {
    ((v &<< 16) &>> 16, v &>> 16)
}

/// The same for int8 lanes inside int16 lanes.
@inline(__always) func splitPairs(_ v: SIMD8<Int16>) -> (even: SIMD8<Int16>, odd: SIMD8<Int16>) {
    ((v &<< 8) &>> 8, v &>> 8)
}

/// Lane-wise clamp (the standard library's `clamp` calls out-of-line `pointwiseMin/Max`).
@inline(__always) func clamped(_ v: SIMD4<Int32>, _ lo: Int32, _ hi: Int32) -> SIMD4<Int32> {
    SIMD4(min(max(v[0], lo), hi), min(max(v[1], lo), hi), min(max(v[2], lo), hi), min(max(v[3], lo), hi))
}

@inline(__always) func clamped(_ v: SIMD8<Int32>, _ lo: Int32, _ hi: Int32) -> SIMD8<Int32> {
    SIMD8(lowHalf: clamped(v.lowHalf, lo, hi), highHalf: clamped(v.highHalf, lo, hi))
}

@inline(__always) func lanewiseMax(_ a: SIMD16<Int8>, _ b: SIMD16<Int8>) -> SIMD16<Int8> {
    var r = a
    for l in 0..<16 { r[l] = max(a[l], b[l]) }
    return r
}

@inline(__always) func lanewiseMin(_ a: SIMD16<Int8>, _ b: SIMD16<Int8>) -> SIMD16<Int8> {
    var r = a
    for l in 0..<16 { r[l] = min(a[l], b[l]) }
    return r
}

@inline(__always) func lanewiseMax(_ a: SIMD8<Int8>, _ b: SIMD8<Int8>) -> SIMD8<Int8> {
    var r = a
    for l in 0..<8 { r[l] = max(a[l], b[l]) }
    return r
}

@inline(__always) func lanewiseMin(_ a: SIMD8<Int8>, _ b: SIMD8<Int8>) -> SIMD8<Int8> {
    var r = a
    for l in 0..<8 { r[l] = min(a[l], b[l]) }
    return r
}
