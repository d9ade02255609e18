import ParlaFace
import ParlaMedia
import ParlaMotion

/// Steps 1–3 and the per-triangle setup of step 4–5 (docs/frame-decoder.md), shared by every backend: the CPU
/// reference rasterizes the triangles it hands out, the GLES backend uploads them as ``GPUTriangle`` records.
/// Both therefore see the same snapped vertices and the same fixed-point planes, bit for bit.
///
/// Buffers are allocated in `init`; ``update(_:)`` and the triangle accessors allocate nothing.
package final class FrameGeometry {
    let width: Int
    let height: Int
    let mapping: CoverMapping
    let deformer: MeshDeformer
    let mouth: MouthOpening
    private let triangles: UnsafeMutableBufferPointer<SIMD3<Int32>>
    /// Per vertex: the rest sample position (texture pixels − ½) of its snapped rest position.
    private let restU: UnsafeMutableBufferPointer<Double>
    private let restV: UnsafeMutableBufferPointer<Double>
    /// Sample position of output pixel (x, y) where no triangle covers it: `origin + step · x` (and y).
    let identityU: FixedPlane
    let identityV: FixedPlane
    /// Whether the avatar has a background plate (the background composite runs at all).
    let hasBackground: Bool
    /// Per face triangle, then per mouth-strip triangle: what the texels its samples can reach (its rest texture
    /// triangle's box, grown by ``footprintMargin`` texels) say about the composite.
    private let footprints: [Footprint]
    /// Texels the footprint box grows by: fixed-point rounding moves a sample less than 0.2 texel out of the rest
    /// triangle, and a bilinear sample also reads the next texel.
    static let footprintMargin = 2

    /// What a triangle's footprint holds.
    enum Footprint {
        /// Mask 255 everywhere: every sample's `α_w` is 255, the pixel is the warped portrait.
        case person
        /// Mask 0, plate RGB = texture RGB and texture alpha 255 everywhere: `I_w = B_w` in RGB, so the pixel is
        /// `B_id` with alpha 255.
        case background
        /// Anything else: the full formula.
        case mixed
    }
    /// Tests: flag every triangle for the background composite (no skips), to show the skips change nothing.
    var blendsEveryTriangle = false

    /// Number of avatar (face) triangles; they come first in draw order.
    package var faceTriangleCount: Int { triangles.count }
    /// Number of mouth-strip triangles; they are drawn after the face triangles.
    package static var mouthTriangleCount: Int { MouthOpening.strip.count }

    /// `avatar` must already be validated (``CPUFrameDecoder/validate(_:subject:width:height:)``).
    init(validated avatar: Avatar, width: Int, height: Int) {
        self.width = width
        self.height = height
        mapping = CoverMapping(
            textureWidth: avatar.texture.width, textureHeight: avatar.texture.height,
            outputWidth: width, outputHeight: height)
        deformer = MeshDeformer(avatar: avatar, mapping: mapping, outputWidth: width, outputHeight: height)
        mouth = MouthOpening(vertices: avatar.vertices)
        triangles = .allocate(capacity: avatar.triangles.count)
        for (k, t) in avatar.triangles.enumerated() {
            triangles[k] = SIMD3(Int32(t.x), Int32(t.y), Int32(t.z))
        }
        let count = avatar.vertices.count
        restU = .allocate(capacity: count)
        restV = .allocate(capacity: count)
        for i in 0..<count {
            let q = deformer.snappedRestPosition(i)
            let p = mapping.texturePosition(ofOutput: SIMD2(Double(q.x), Double(q.y)) / Double(Subpixel.one))
            restU[i] = p.x - 0.5
            restV[i] = p.y - 0.5
        }
        let unit = Double(TextureSampler.one), scale = mapping.scale, offset = mapping.offset
        let step = Int64((unit / scale).rounded())
        let originX = (((0.5 - offset.x) / scale - 0.5) * unit).rounded()
        let originY = (((0.5 - offset.y) / scale - 0.5) * unit).rounded()
        identityU = FixedPlane(origin: Int64(originX), stepX: step, stepY: 0)
        identityV = FixedPlane(origin: Int64(originY), stepX: 0, stepY: step)
        hasBackground = avatar.background != nil
        if let plate = avatar.background {
            let faces = avatar.triangles.map { [Int($0.x), Int($0.y), Int($0.z)] }
            let slots = mouth.slotVertex
            let strip = MouthOpening.strip.map { [slots[$0.x], slots[$0.y], slots[$0.z]] }
            let (u, v) = (restU, restV)
            let texture = avatar.texture
            footprints = (faces + strip).map {
                FrameGeometry.footprint(texture, plate, u: $0.map { u[$0] }, v: $0.map { v[$0] })
            }
        } else {
            footprints = []
        }
    }

    /// The ``Footprint`` of the box of sample positions `u`, `v` (texture pixels − ½) grown by
    /// ``footprintMargin`` texels, clamped to the texture.
    static func footprint(_ texture: RGBAImage, _ plate: RGBAImage, u: [Double], v: [Double]) -> Footprint {
        guard let u0 = u.min(), let u1 = u.max(), let v0 = v.min(), let v1 = v.max(),
              u0.isFinite, u1.isFinite, v0.isFinite, v1.isFinite else { return .mixed }
        let m = Double(footprintMargin), w = plate.width, h = plate.height
        let x0 = Int(max(min((u0 - m).rounded(.down), Double(w - 1)), 0))
        let x1 = Int(max(min((u1 + m).rounded(.up), Double(w - 1)), 0))
        let y0 = Int(max(min((v0 - m).rounded(.down), Double(h - 1)), 0))
        let y1 = Int(max(min((v1 + m).rounded(.up), Double(h - 1)), 0))
        var person = true, background = true
        for y in y0...y1 {
            for x in x0...x1 {
                let i = (y * w + x) * 4
                let alpha = plate.pixels[i + 3]
                person = person && alpha == 255
                let opaqueBackground: Bool = alpha == 0 && texture.pixels[i + 3] == 255
                let red: Bool = plate.pixels[i] == texture.pixels[i]
                let green: Bool = plate.pixels[i + 1] == texture.pixels[i + 1]
                let blue: Bool = plate.pixels[i + 2] == texture.pixels[i + 2]
                background = background && opaqueBackground && red && green && blue
                if !person && !background { return .mixed }
            }
        }
        return person ? .person : .background
    }

    /// How a triangle with these planes composites with the background plate: not at all without a plate, where
    /// it maps exactly like the identity (then `B_w = B_id` and the formula leaves `I_w`) or over a ``Footprint``
    /// of person; the plate's identity sample over a footprint of background; else the formula. Footprints hold
    /// while the u/v steps are not clamped (a clamped sliver may sample outside its rest triangle).
    @inline(__always)
    private func composite(_ planes: WarpPlanes, footprint k: Int) -> WarpPlanes.Composite {
        if !hasBackground { return .portrait }
        if blendsEveryTriangle { return .blend }
        let u = planes.u, v = planes.v
        let identitySteps: Bool = u.stepX == identityU.stepX && u.stepY == Int64(0) && v.stepX == Int64(0)
            && v.stepY == identityV.stepY
        let identityOrigins: Bool = u.origin == identityU.value(dx: planes.minX, dy: 0)
            && v.origin == identityV.value(dx: 0, dy: planes.minY)
        if identitySteps && identityOrigins { return .portrait }
        let limit = Int64(1) << 40  // AffinePlane's step clamp (2^24 pixels) in 16 fractional bits
        guard abs(u.stepX) < limit && abs(u.stepY) < limit && abs(v.stepX) < limit && abs(v.stepY) < limit else {
            return .blend
        }
        switch footprints[k] {
        case .person: return .portrait
        case .background: return .plate
        case .mixed: return .blend
        }
    }

    /// Validates `avatar` and the output size (one-line ``FrameDecoderError``), then prepares the buffers.
    package convenience init(avatar: Avatar, width: Int, height: Int) throws {
        try CPUFrameDecoder.validate(avatar, subject: CPUFrameDecoder.name(of: avatar), width: width, height: height)
        self.init(validated: avatar, width: width, height: height)
    }

    deinit { triangles.deallocate(); restU.deallocate(); restV.deallocate() }

    /// Deforms, poses and snaps the mesh for `frame` and recomputes the mouth attributes. Throws for a frame
    /// with non-finite numbers.
    package func update(_ frame: MotionFrame) throws {
        try CPUFrameDecoder.validate(frame)
        deformer.run(frame)
        mouth.update(snapped: deformer.snapped)
    }

    /// Face triangle `k` of the last ``update(_:)`` in positive winding, with its warp planes; nil when it has
    /// zero area or lies outside the output.
    @inline(__always)
    func faceTriangle(_ k: Int) -> (TriangleRaster, WarpPlanes)? {
        let snapped = deformer.snapped, vertexDepth = deformer.depth
        let t = triangles[k]
        var i0 = Int(t.x), i1 = Int(t.y), i2 = Int(t.z)
        let area = TriangleRaster.doubleSignedArea(snapped[i0], snapped[i1], snapped[i2])
        if area == 0 { return nil }
        if area < 0 { swap(&i1, &i2) }
        guard let raster = TriangleRaster(snapped[i0], snapped[i1], snapped[i2], width: width, height: height),
            !raster.isEmpty
        else { return nil }
        var planes = WarpPlanes(
            raster, u: SIMD3(restU[i0], restU[i1], restU[i2]), v: SIMD3(restV[i0], restV[i1], restV[i2]),
            z: SIMD3(Double(vertexDepth[i0]), Double(vertexDepth[i1]), Double(vertexDepth[i2])))
        planes.composite = composite(planes, footprint: k)
        return (raster, planes)
    }

    /// Mouth-strip triangle `k` of the last ``update(_:)``: nil when the lips crossed there (winding flipped),
    /// it has zero area or lies outside the output.
    @inline(__always)
    func mouthTriangle(_ k: Int) -> (TriangleRaster, WarpPlanes, MouthPlanes)? {
        let snapped = deformer.snapped, vertexDepth = deformer.depth
        let tri = MouthOpening.strip[k]
        var s0 = tri.x, s1 = tri.y, s2 = tri.z
        let area = TriangleRaster.doubleSignedArea(
            snapped[mouth.slotVertex[s0]], snapped[mouth.slotVertex[s1]], snapped[mouth.slotVertex[s2]])
        if Double(area) * mouth.orientation <= 0 { return nil }
        if area < 0 { swap(&s1, &s2) }
        let i0 = mouth.slotVertex[s0], i1 = mouth.slotVertex[s1], i2 = mouth.slotVertex[s2]
        guard let raster = TriangleRaster(snapped[i0], snapped[i1], snapped[i2], width: width, height: height),
            !raster.isEmpty
        else { return nil }
        let bias = mouth.depthBias
        var planes = WarpPlanes(
            raster, u: SIMD3(restU[i0], restU[i1], restU[i2]), v: SIMD3(restV[i0], restV[i1], restV[i2]),
            z: SIMD3(Double(vertexDepth[i0]), Double(vertexDepth[i1]), Double(vertexDepth[i2])) + bias)
        planes.composite = composite(planes, footprint: triangles.count + k)
        let m = mouth
        let mouthPlanes = MouthPlanes(
            minX: raster.minX, minY: raster.minY,
            gapBelowUpper: AffinePlane(raster, m.gapBelowUpper[s0], m.gapBelowUpper[s1], m.gapBelowUpper[s2]),
            gapAboveLower: AffinePlane(raster, m.gapAboveLower[s0], m.gapAboveLower[s1], m.gapAboveLower[s2]),
            across: AffinePlane(raster, m.across[s0], m.across[s1], m.across[s2]),
            weight: AffinePlane(raster, m.interiorWeight[s0], m.interiorWeight[s1], m.interiorWeight[s2]))
        return (raster, planes, mouthPlanes)
    }

    // MARK: - GPU records

    /// Writes every drawable triangle of the last ``update(_:)`` in draw order (face, then mouth strip) into
    /// `records` (capacity ``faceTriangleCount`` + ``mouthTriangleCount``) and returns how many it wrote.
    /// `index` of each record is its draw-order rank, which breaks depth ties (the first fragment wins).
    package func encode(into records: UnsafeMutablePointer<GPUTriangle>) -> Int {
        var n = 0
        for k in 0..<triangles.count {
            guard let (raster, planes) = faceTriangle(k) else { continue }
            records[n] = GPUTriangle(raster, planes, mouth: nil)
            n += 1
        }
        for k in 0..<MouthOpening.strip.count {
            guard let (raster, planes, mouthPlanes) = mouthTriangle(k) else { continue }
            records[n] = GPUTriangle(raster, planes, mouth: mouthPlanes)
            n += 1
        }
        return n
    }

    /// Mouth width this frame, output pixels (the interior's shading scale).
    package var mouthWidth: Float { Float(mouth.width) }
    /// Identity sample position of uncovered pixels: `(originU + stepU·x, originV + stepV·y)`, 16 fractional bits.
    package var identityPlane: (originU: Int32, originV: Int32, step: Int32) {
        (Int32(truncatingIfNeeded: identityU.origin), Int32(truncatingIfNeeded: identityV.origin),
         Int32(truncatingIfNeeded: identityU.stepX))
    }
}

/// One triangle as the GLES shaders read it (`Shaders/common.glsl`, `std430` array of 36 ints).
///
/// Fixed-point planes are the CPU's Int64 planes truncated to 32 bits: the shader evaluates
/// `origin + stepX·dx + stepY·dy` with wrapping 32-bit arithmetic, which equals the CPU's Int64 result
/// modulo 2^32 — exactly the CPU's value for depth (which the CPU truncates to Int32 too) and for sample
/// positions within ±32768 texels.
package struct GPUTriangle {
    /// Snapped vertices (1/256 pixel), positive winding.
    package var p0x: Int32, p0y: Int32, p1x: Int32, p1y: Int32, p2x: Int32, p2y: Int32
    /// Pixel box clipped to the output, inclusive.
    package var minX: Int32, minY: Int32, maxX: Int32, maxY: Int32
    /// Bits 0–2: fill-rule bias of edges 0–2; bit 3: a mouth-strip triangle; bit 4: its pixels blend with the
    /// background plate; bit 5: its pixels are the plate's identity sample (``WarpPlanes/Composite``).
    package var flags: Int32
    /// Index of this triangle's first box row in the frame's row table (set by the GLES backend).
    package var firstRow: Int32
    package var uOrigin: Int32, uStepX: Int32, uStepY: Int32
    package var vOrigin: Int32, vStepX: Int32, vStepY: Int32
    package var zOrigin: Int32, zStepX: Int32, zStepY: Int32
    /// Mouth planes (origin at (minX, minY), steps per pixel): gap below the upper lip, above the lower lip,
    /// position across the mouth, interior weight.
    package var upOrigin: Float, upStepX: Float, upStepY: Float
    package var loOrigin: Float, loStepX: Float, loStepY: Float
    package var acrossOrigin: Float, acrossStepX: Float, acrossStepY: Float
    package var weightOrigin: Float, weightStepX: Float, weightStepY: Float
    package var pad0: Int32 = 0, pad1: Int32 = 0, pad2: Int32 = 0

    /// Ints per record in the shader's view.
    package static let stride = 36

    init(_ t: TriangleRaster, _ w: WarpPlanes, mouth: MouthPlanes?) {
        func i32(_ v: Int64) -> Int32 { Int32(truncatingIfNeeded: v) }
        p0x = i32(t.p0.x); p0y = i32(t.p0.y); p1x = i32(t.p1.x); p1y = i32(t.p1.y); p2x = i32(t.p2.x); p2y = i32(t.p2.y)
        minX = Int32(t.minX); minY = Int32(t.minY); maxX = Int32(t.maxX); maxY = Int32(t.maxY)
        flags = i32(t.bias.x | t.bias.y << 1 | t.bias.z << 2) | (mouth == nil ? 0 : 8) | (w.composite == .blend ? 16 : w.composite == .plate ? 32 : 0)
        firstRow = 0
        uOrigin = i32(w.u.origin); uStepX = i32(w.u.stepX); uStepY = i32(w.u.stepY)
        vOrigin = i32(w.v.origin); vStepX = i32(w.v.stepX); vStepY = i32(w.v.stepY)
        zOrigin = i32(w.z.origin); zStepX = i32(w.z.stepX); zStepY = i32(w.z.stepY)
        func f(_ p: AffinePlane?) -> (Float, Float, Float) {
            guard let p else { return (0, 0, 0) }
            return (Float(p.origin), Float(p.stepX), Float(p.stepY))
        }
        (upOrigin, upStepX, upStepY) = f(mouth?.gapBelowUpper)
        (loOrigin, loStepX, loStepY) = f(mouth?.gapAboveLower)
        (acrossOrigin, acrossStepX, acrossStepY) = f(mouth?.across)
        (weightOrigin, weightStepX, weightStepY) = f(mouth?.weight)
    }
}
