import ParlaFace
import ParlaMedia
import ParlaMotion

/// The CPU reference frame decoder: deforms the avatar's mesh for a ``MotionFrame`` and warps the texture
/// through it, then draws the mouth interior (docs/frame-decoder.md describes the algorithm step by step).
///
/// Every buffer is sized in `init`; ``decode(_:into:)`` allocates nothing. Not thread-safe: use one decoder
/// per thread.
public final class CPUFrameDecoder: FrameDecoder {
    /// Which rasterizer fills triangles: the fast span one, or the per-pixel reference (tests only).
    enum Rasterizer { case scanline, reference }

    /// Output width in pixels.
    public let width: Int
    /// Output height in pixels.
    public let height: Int

    let mapping: CoverMapping
    let rasterizer: Rasterizer
    /// Whether the drawn mouth interior is blended in (tests switch it off to isolate it).
    let drawsMouthInterior: Bool
    private let deformer: MeshDeformer
    private let mouth: MouthOpening
    private let sampler: TextureSampler
    private let triangles: UnsafeMutableBufferPointer<SIMD3<Int32>>
    /// Per vertex: the rest sample position (texture pixels − ½) of its snapped rest position.
    private let restU: UnsafeMutableBufferPointer<Double>
    private let restV: UnsafeMutableBufferPointer<Double>
    private let coverage: UnsafeMutableBufferPointer<UInt8>
    private let depth: UnsafeMutableBufferPointer<Int32>
    /// Sample position of output pixel (x, y) where no triangle covers it: `origin + step · x` (and y).
    private let identityU: FixedPlane
    private let identityV: FixedPlane

    /// Prepares buffers once; `width`×`height` is the output size (the square avatar texture is scaled to cover
    /// it, centred). Throws a one-line error for invalid avatars (index out of range, empty texture) or sizes
    /// (< 16 or > 8192).
    public convenience init(avatar: Avatar, width: Int, height: Int) throws {
        try self.init(avatar: avatar, width: width, height: height, rasterizer: .scanline, drawsMouthInterior: true)
    }

    init(avatar: Avatar, width: Int, height: Int, rasterizer: Rasterizer, drawsMouthInterior: Bool) throws {
        try Self.validate(avatar, subject: Self.name(of: avatar), width: width, height: height)
        self.width = width
        self.height = height
        self.rasterizer = rasterizer
        self.drawsMouthInterior = drawsMouthInterior
        mapping = CoverMapping(
            textureWidth: avatar.texture.width, textureHeight: avatar.texture.height,
            outputWidth: width, outputHeight: height)
        deformer = MeshDeformer(avatar: avatar, mapping: mapping, outputWidth: width, outputHeight: height)
        mouth = MouthOpening(vertices: avatar.vertices)
        sampler = TextureSampler(texture: avatar.texture)

        triangles = .allocate(capacity: avatar.triangles.count)
        for (k, t) in avatar.triangles.enumerated() {
            triangles[k] = SIMD3(Int32(t.x), Int32(t.y), Int32(t.z))
        }
        let count = avatar.vertices.count
        restU = .allocate(capacity: count)
        restV = .allocate(capacity: count)
        for i in 0..<count {
            let q = deformer.snappedRestPosition(i)
            let p = mapping.texturePosition(
                ofOutput: SIMD2(Double(q.x), Double(q.y)) / Double(Subpixel.one))
            restU[i] = p.x - 0.5
            restV[i] = p.y - 0.5
        }
        coverage = .allocate(capacity: width * height)
        coverage.initialize(repeating: 0)
        depth = .allocate(capacity: width * height)
        depth.initialize(repeating: 0)

        let unit = Double(TextureSampler.one), scale = mapping.scale, offset = mapping.offset
        let step = Int64((unit / scale).rounded())
        let originX = (((0.5 - offset.x) / scale - 0.5) * unit).rounded()
        let originY = (((0.5 - offset.y) / scale - 0.5) * unit).rounded()
        identityU = FixedPlane(origin: Int64(originX), stepX: step, stepY: 0)
        identityV = FixedPlane(origin: Int64(originY), stepX: 0, stepY: step)
    }

    deinit {
        sampler.deallocate(); triangles.deallocate(); restU.deallocate(); restV.deallocate()
        coverage.deallocate(); depth.deallocate()
    }

    /// Draws `frame` into `output`, which must be `width × height`; allocates nothing.
    public func decode(_ frame: MotionFrame, into output: inout RGBAImage) throws {
        guard output.width == width, output.height == height, output.pixels.count == width * height * 4 else {
            throw FrameDecoderError(
                subject: "output",
                problem: "image is \(output.width)x\(output.height) but the decoder draws \(width)x\(height)")
        }
        try Self.validate(frame)
        deformer.run(frame)
        mouth.update(snapped: deformer.snapped)
        coverage.update(repeating: 0)
        output.pixels.withUnsafeMutableBufferPointer { bytes in
            bytes.withMemoryRebound(to: UInt32.self) { color in
                let target = RasterTarget(
                    width: width, height: height, color: color.baseAddress!,
                    coverage: coverage.baseAddress!, depth: depth.baseAddress!)
                drawFace(into: target)
                drawMouth(into: target)
                fillUncovered(target)
            }
        }
    }

    /// Step 4: every avatar triangle, in either winding (a folded triangle is drawn too; depth decides).
    private func drawFace(into target: RasterTarget) {
        let snapped = deformer.snapped, vertexDepth = deformer.depth
        for k in 0..<triangles.count {
            let t = triangles[k]
            var i0 = Int(t.x), i1 = Int(t.y), i2 = Int(t.z)
            let area = TriangleRaster.doubleSignedArea(snapped[i0], snapped[i1], snapped[i2])
            if area == 0 { continue }
            if area < 0 { swap(&i1, &i2) }
            guard let raster = TriangleRaster(snapped[i0], snapped[i1], snapped[i2], width: width, height: height),
                !raster.isEmpty
            else { continue }
            let planes = WarpPlanes(
                raster, u: SIMD3(restU[i0], restU[i1], restU[i2]), v: SIMD3(restV[i0], restV[i1], restV[i2]),
                z: SIMD3(Double(vertexDepth[i0]), Double(vertexDepth[i1]), Double(vertexDepth[i2])))
            let shader = WarpSpanShader(target: target, sampler: sampler, planes: planes)
            switch rasterizer {
            case .scanline: raster.forEachSpan { y, x0, x1 in shader.shade(y: y, x0: x0, x1: x1) }
            case .reference: raster.forEachSpanReference { y, x0, x1 in shader.shade(y: y, x0: x0, x1: x1) }
            }
        }
    }

    /// Step 5: the mouth strip, skipping triangles whose winding flipped (crossed lips).
    private func drawMouth(into target: RasterTarget) {
        let snapped = deformer.snapped, vertexDepth = deformer.depth
        for tri in MouthOpening.strip {
            var s0 = tri.x, s1 = tri.y, s2 = tri.z
            let area = TriangleRaster.doubleSignedArea(
                snapped[mouth.slotVertex[s0]], snapped[mouth.slotVertex[s1]], snapped[mouth.slotVertex[s2]])
            if Double(area) * mouth.orientation <= 0 { continue }
            if area < 0 { swap(&s1, &s2) }
            let i0 = mouth.slotVertex[s0], i1 = mouth.slotVertex[s1], i2 = mouth.slotVertex[s2]
            guard let raster = TriangleRaster(snapped[i0], snapped[i1], snapped[i2], width: width, height: height),
                !raster.isEmpty
            else { continue }
            let bias = mouth.depthBias
            let planes = WarpPlanes(
                raster, u: SIMD3(restU[i0], restU[i1], restU[i2]), v: SIMD3(restV[i0], restV[i1], restV[i2]),
                z: SIMD3(Double(vertexDepth[i0]), Double(vertexDepth[i1]), Double(vertexDepth[i2])) + bias)
            func plane(_ values: [Double]) -> AffinePlane { AffinePlane(raster, values[s0], values[s1], values[s2]) }
            let mouthPlanes = MouthPlanes(
                minX: raster.minX, minY: raster.minY,
                gapBelowUpper: plane(mouth.gapBelowUpper), gapAboveLower: plane(mouth.gapAboveLower),
                across: plane(mouth.across), weight: plane(mouth.interiorWeight))
            let shader = MouthSpanShader(
                target: target, sampler: sampler, planes: planes, mouth: mouthPlanes,
                mouthWidth: Float(mouth.width), drawsInterior: drawsMouthInterior)
            switch rasterizer {
            case .scanline: raster.forEachSpan { y, x0, x1 in shader.shade(y: y, x0: x0, x1: x1) }
            case .reference: raster.forEachSpanReference { y, x0, x1 in shader.shade(y: y, x0: x0, x1: x1) }
            }
        }
    }

    /// Pixels no triangle covered keep the identity mapping (the background, as at rest). Coverage is
    /// scanned eight bytes at a time; almost every word has no zero byte.
    private func fillUncovered(_ target: RasterTarget) {
        let raw = UnsafeRawPointer(target.coverage)
        for y in 0..<height {
            let row = y &* width
            let v = identityV.value(dx: 0, dy: y)
            var x = 0
            while x < width {
                if x &+ 8 <= width {
                    let word = raw.loadUnaligned(fromByteOffset: row &+ x, as: UInt64.self)
                    let hasZeroByte = (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
                    if hasZeroByte == 0 { x &+= 8; continue }
                }
                if target.coverage[row &+ x] == 0 {
                    target.color[row &+ x] = sampler.sample(u: identityU.value(dx: x, dy: 0), v: v)
                }
                x &+= 1
            }
        }
    }

    // MARK: - Test hooks

    /// Coverage counts of the last decoded frame (how many triangles covered each pixel).
    func lastCoverage() -> [UInt8] { Array(coverage) }

    /// Output positions (pixels) of every vertex in the last decoded frame, as snapped for rasterization.
    func lastOutputPositions() -> [SIMD2<Float>] {
        (0..<deformer.vertexCount).map { SIMD2<Float>(deformer.snapped[$0]) / Float(Subpixel.one) }
    }
}
