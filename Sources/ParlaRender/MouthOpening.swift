import ParlaFace

/// Step 5's geometry: the mouth opening (inside the inner-lip contour, which the avatar's triangles leave
/// uncovered) split into a strip of 18 triangles between the upper and lower inner lip, with per-vertex
/// attributes recomputed every frame from the deformed lips.
///
/// Columns i = 0…10 pair `innerLipUpper[i]` with `innerLipLower[i]` (columns 0 and 10 are the shared mouth
/// corners). Triangles: (U0, U1, L1), then for i = 1…8 (Ui, Ui+1, Li+1) and (Ui, Li+1, Li), then (U9, U10, L9).
/// A strip triangle whose winding flips relative to the rest pose means the lips crossed there: it is
/// skipped (the lip triangles cover that place).
final class MouthOpening {
    static let columnCount = 11
    /// Slot k < 11 is upper column k, slot 11 + k is lower column k.
    static let strip: [SIMD3<Int>] = {
        var t: [SIMD3<Int>] = [SIMD3(0, 1, 12)]
        for i in 1...8 {
            t.append(SIMD3(i, i + 1, 11 + i + 1))
            t.append(SIMD3(i, 11 + i + 1, 11 + i))
        }
        t.append(SIMD3(9, 10, 11 + 9))
        return t
    }()

    /// Avatar vertex index of every slot.
    let slotVertex: [Int]
    /// +1 when the lower lip lies on the (−axis.y, axis.x) side of the corner-to-corner axis, else −1.
    let orientation: Double
    /// Rest gap between the lips per column, as a fraction of the rest mouth width.
    let restGap: [Double]
    /// Rest mouth width (corner to corner), texture pixels.
    let restWidth: Double
    /// How much further back than the lips the interior is, for the depth test (texture pixels).
    let depthBias: Double

    /// Per-frame attributes per slot: distance below the upper lip and above the lower lip (output pixels),
    /// position across the mouth (0…1) and how much of the drawn interior shows (0…1).
    private(set) var gapBelowUpper = [Double](repeating: 0, count: 22)
    private(set) var gapAboveLower = [Double](repeating: 0, count: 22)
    private(set) var across = [Double](repeating: 0, count: 22)
    private(set) var interiorWeight = [Double](repeating: 0, count: 22)
    /// Mouth width this frame, output pixels.
    private(set) var width: Double = 0

    /// `vertices` are the avatar's rest vertices (already validated to hold every face-mesh landmark).
    init(vertices: [SIMD3<Float>]) {
        let upper = FaceTopology.innerLipUpper, lower = FaceTopology.innerLipLower
        slotVertex = upper + lower
        func p(_ i: Int) -> SIMD2<Double> { SIMD2(Double(vertices[i].x), Double(vertices[i].y)) }
        let axis = p(upper[10]) - p(upper[0])
        let lipsDown = p(FaceTopology.outerLipLower[5]) - p(FaceTopology.outerLipUpper[5])
        let normal = SIMD2(-axis.y, axis.x)
        orientation = (normal * lipsDown).sum() >= 0 ? 1 : -1
        let width = (axis * axis).sum().squareRoot()
        restWidth = width
        var gaps = [Double](repeating: 0, count: Self.columnCount)
        if width > 0 {
            let n = normal / width * orientation
            for i in 1..<(Self.columnCount - 1) {
                gaps[i] = max(((p(lower[i]) - p(upper[i])) * n).sum(), 0) / width
            }
        }
        restGap = gaps
        depthBias = 0.25 * width
    }

    /// Computes this frame's attributes from the deformed, snapped output positions.
    func update(snapped: UnsafeMutableBufferPointer<SIMD2<Int64>>) {
        func p(_ slot: Int) -> SIMD2<Double> {
            SIMD2(Double(snapped[slotVertex[slot]].x), Double(snapped[slotVertex[slot]].y)) / Double(Subpixel.one)
        }
        let corner0 = p(0)
        let axis = p(10) - corner0
        let w = (axis * axis).sum().squareRoot()
        width = w
        for k in 0..<22 {
            gapBelowUpper[k] = 0; gapAboveLower[k] = 0; interiorWeight[k] = 0
        }
        across[0] = 0; across[11] = 0; across[10] = 1; across[21] = 1
        guard w > 1e-6 else { return }
        let n = SIMD2(-axis.y, axis.x) / w * orientation
        for i in 1..<(Self.columnCount - 1) {
            let u = p(i), l = p(11 + i)
            let gap = max(((l - u) * n).sum(), 0)
            let s = (((u + l) * 0.5 - corner0) * axis).sum() / (w * w)
            let ramp = 0.06 + 0.5 * restGap[i]
            let weight = min(max((gap / w - restGap[i]) / ramp, 0), 1)
            gapAboveLower[i] = gap
            gapBelowUpper[11 + i] = gap
            across[i] = s; across[11 + i] = s
            interiorWeight[i] = weight; interiorWeight[11 + i] = weight
        }
    }
}
