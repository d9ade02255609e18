/// The drawn mouth interior: a dark cavity, upper and lower teeth and a tongue hint, as a function of a
/// pixel's place in the opening. Distances are output pixels; `s` runs 0…1 from one mouth corner to the other.
///
/// Layers, back to front (each with a 1-pixel anti-aliased edge):
/// * cavity — a warm red-brown rim along the lips, deep red-brown shadow inside, darkest halfway between
///   the lips and towards the middle of the mouth, and darker the wider the mouth opens;
/// * tongue — a darker pink dome resting on the lower lip, lower than `0.13·width` and `0.4·gap`;
/// * lower teeth — a band above the lower inner lip, `min(0.055·width, 0.3·(gap − 0.1·width))` tall (hidden
///   while the mouth is only slightly open), narrower and in shadow;
/// * upper teeth — a band below the upper inner lip, `min(0.13·width, 0.62·gap)` tall, off-white, darker
///   towards the mouth corners and under the lip, with faint lines between the teeth.
/// Both tooth bands taper to nothing towards the corners (`arch`).
enum MouthShading {
    static let cavityLight = SIMD3<Float>(118, 50, 44)
    static let cavityMid = SIMD3<Float>(70, 27, 25)
    static let cavityDark = SIMD3<Float>(26, 9, 9)
    static let tongue = SIMD3<Float>(158, 72, 78)
    static let teeth = SIMD3<Float>(228, 220, 202)
    /// Upper tooth boundaries as |2s − 1| (besides the midline): central/lateral incisors, canine, premolar.
    static let upperToothBoundaries: SIMD4<Float> = [0.26, 0.46, 0.62, 0.75]
    /// Lower tooth boundaries (narrower incisors).
    static let lowerToothBoundaries: SIMD4<Float> = [0.17, 0.33, 0.48, 0.6]

    /// Colour (0…255 per channel) of the mouth interior at a pixel `dUp` below the upper inner lip and `dLo`
    /// above the lower inner lip, at `s` across a mouth `width` pixels wide.
    static func color(dUp: Float, dLo: Float, s: Float, width: Float) -> SIMD3<Float> {
        let up = max(dUp, 0), lo = max(dLo, 0)
        let gap = max(up + lo, 1e-3)
        let c = min(max(2 * s - 1, -1), 1)
        let c2 = c * c

        // Cavity: a red-brown rim along the lips, deep shadow inside, darkest halfway between the lips and
        // the wider the mouth opens.
        let halfway = min(up, lo) / (0.5 * gap)
        let openness = min(gap / (0.3 * max(width, 1)), 1)
        let rim = min(max(min(up, lo) / (0.07 * width + 1), 0), 1)
        let depth = min(max((0.6 * halfway + 0.4 * (1 - 0.5 * c2)) * (0.6 + 0.4 * openness), 0), 1)
        var result = mix(cavityLight, mix(cavityMid, cavityDark, depth), rim)

        // Tongue.
        let tongueTop = min(0.13 * width, 0.4 * gap) * (max(1 - c2 / 0.36, 0)).squareRoot()
        let tongueCover = coverage(inside: tongueTop - lo)
        if tongueCover > 0 {
            let depthIn = min(max((tongueTop - lo) / (0.6 * tongueTop + 1), 0), 1)
            let shade = (0.7 + 0.3 * depthIn) * (1 - 0.3 * c2)
            result = mix(result, tongue * shade, tongueCover)
        }

        // Teeth.
        let lineStrength = 0.3 * min(max((width - 16) / 40, 0), 1)
        let lowerArch = (min(max((0.72 - abs(c)) / 0.25, 0), 1)).squareRoot()
        let lowerHeight = min(0.055 * width, 0.3 * max(gap - 0.1 * width, 0)) * lowerArch
        let lowerCover = coverage(inside: lowerHeight - lo)
        if lowerCover > 0 {
            let line = toothLine(c, lowerToothBoundaries, width: width, strength: lineStrength)
            result = mix(result, teeth * SIMD3(0.7, 0.68, 0.64) * ((1 - 0.5 * c2) * line), lowerCover)
        }
        let arch = (min(max((0.92 - abs(c)) / 0.3, 0), 1)).squareRoot() * (1 - 0.2 * c2)
        let upperHeight = min(0.13 * width, 0.62 * gap) * arch
        let upperCover = coverage(inside: upperHeight - up)
        if upperCover > 0 {
            let underLip = 0.8 + 0.2 * min(max(up / (0.3 * upperHeight + 0.5), 0), 1)
            let line = toothLine(c, upperToothBoundaries, width: width, strength: lineStrength)
            result = mix(result, teeth * ((1 - 0.42 * c2) * underLip * line), upperCover)
        }
        return result
    }

    /// Coverage of a pixel whose centre lies `distance` pixels inside an edge: a 1-pixel ramp.
    @inline(__always)
    static func coverage(inside distance: Float) -> Float { min(max(distance + 0.5, 0), 1) }

    /// Brightness factor of the faint dark line between teeth: `1 − strength` on a boundary (or the
    /// midline), back to 1 at 0.8 output pixels from it.
    static func toothLine(_ c: Float, _ boundaries: SIMD4<Float>, width: Float, strength: Float) -> Float {
        let a = abs(c)
        let diff = SIMD4<Float>(repeating: a) - boundaries
        let distance = min(pointwiseMax(diff, -diff).min(), a) * 0.5 * width
        return 1 - strength * min(max(1 - distance / 0.8, 0), 1)
    }

    @inline(__always)
    static func mix(_ a: SIMD3<Float>, _ b: SIMD3<Float>, _ t: Float) -> SIMD3<Float> { a + (b - a) * t }
}
