import Dispatch
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

    var mapping: CoverMapping { geometry.mapping }
    let rasterizer: Rasterizer
    /// Whether the drawn mouth interior is blended in (tests switch it off to isolate it).
    let drawsMouthInterior: Bool
    /// How many row bands ``decode(_:into:)`` draws in parallel (1: on the calling thread).
    public let threadCount: Int
    private let geometry: FrameGeometry
    private let sampler: TextureSampler
    /// The background composite, when the avatar has a plate.
    private let background: BackgroundBlend?
    private let coverage: UnsafeMutableBufferPointer<UInt8>
    private let depth: UnsafeMutableBufferPointer<Int32>

    /// Prepares buffers once; `width`×`height` is the output size (the square avatar texture is scaled to cover
    /// it, centred). Throws a one-line error for invalid avatars (index out of range, empty texture) or sizes
    /// (< 16 or > 8192).
    ///
    /// `threads` > 1 splits the output into that many bands of rows drawn concurrently (every band rasterizes
    /// the triangles that reach it; the picture is identical to the one-thread result).
    public convenience init(avatar: Avatar, width: Int, height: Int, threads: Int = 1) throws {
        try self.init(
            avatar: avatar, width: width, height: height, rasterizer: .scanline, drawsMouthInterior: true,
            threads: threads)
    }

    init(
        avatar: Avatar, width: Int, height: Int, rasterizer: Rasterizer, drawsMouthInterior: Bool, threads: Int = 1
    ) throws {
        try Self.validate(avatar, subject: Self.name(of: avatar), width: width, height: height)
        self.width = width
        self.height = height
        self.rasterizer = rasterizer
        self.drawsMouthInterior = drawsMouthInterior
        threadCount = min(max(threads, 1), height)
        let geometry = FrameGeometry(validated: avatar, width: width, height: height)
        self.geometry = geometry
        sampler = TextureSampler(texture: avatar.texture)
        background = avatar.background.map {
            BackgroundBlend(texture: avatar.texture, plate: $0, identityU: geometry.identityU, identityV: geometry.identityV)
        }
        coverage = .allocate(capacity: width * height)
        coverage.initialize(repeating: 0)
        depth = .allocate(capacity: width * height)
        depth.initialize(repeating: 0)
    }

    deinit {
        sampler.deallocate(); background?.deallocate(); coverage.deallocate(); depth.deallocate()
    }

    /// Draws `frame` into `output`, which must be `width × height`; allocates nothing.
    public func decode(_ frame: MotionFrame, into output: inout RGBAImage) throws {
        guard output.width == width, output.height == height, output.pixels.count == width * height * 4 else {
            throw FrameDecoderError(
                subject: "output",
                problem: "image is \(output.width)x\(output.height) but the decoder draws \(width)x\(height)")
        }
        try geometry.update(frame)
        output.pixels.withUnsafeMutableBufferPointer { bytes in
            bytes.withMemoryRebound(to: UInt32.self) { color in
                let target = RasterTarget(
                    width: width, height: height, color: color.baseAddress!,
                    coverage: coverage.baseAddress!, depth: depth.baseAddress!)
                if threadCount == 1 {
                    draw(into: target, rows: 0...(height - 1))
                } else {
                    // Bands write disjoint rows of the shared buffers; the geometry is only read.
                    let job = BandJob(decoder: self, target: target)
                    let bands = threadCount, height = self.height
                    DispatchQueue.concurrentPerform(iterations: bands) { band in
                        let first = band * height / bands, last = (band + 1) * height / bands - 1
                        if first <= last { job.decoder.draw(into: job.target, rows: first...last) }
                    }
                }
            }
        }
    }

    private struct BandJob: @unchecked Sendable {
        let decoder: CPUFrameDecoder
        let target: RasterTarget
    }

    /// Draws one band of rows: clears its coverage, then steps 4 (with the background composite) and 5, then the
    /// uncovered pixels. Bands touch
    /// disjoint pixels, so several may run at once.
    private func draw(into target: RasterTarget, rows: ClosedRange<Int>) {
        let start = rows.lowerBound * width, count = rows.count * width
        (coverage.baseAddress! + start).update(repeating: 0, count: count)
        drawFace(into: target, rows: rows)
        drawMouth(into: target, rows: rows)
        fillUncovered(target, rows: rows)
    }

    /// Step 4: every avatar triangle, in either winding (a folded triangle is drawn too; depth decides).
    private func drawFace(into target: RasterTarget, rows: ClosedRange<Int>) {
        for k in 0..<geometry.faceTriangleCount {
            guard let (raster, planes) = geometry.faceTriangle(k),
                raster.minY <= rows.upperBound, raster.maxY >= rows.lowerBound
            else { continue }
            let shader = WarpSpanShader(target: target, sampler: sampler, planes: planes, background: background)
            switch rasterizer {
            case .scanline: raster.forEachSpan(rows: rows) { y, x0, x1 in shader.shade(y: y, x0: x0, x1: x1) }
            case .reference:
                raster.forEachSpanReference { y, x0, x1 in
                    if rows.contains(y) { shader.shade(y: y, x0: x0, x1: x1) }
                }
            }
        }
    }

    /// Step 5: the mouth strip, skipping triangles whose winding flipped (crossed lips).
    private func drawMouth(into target: RasterTarget, rows: ClosedRange<Int>) {
        for k in 0..<FrameGeometry.mouthTriangleCount {
            guard let (raster, planes, mouthPlanes) = geometry.mouthTriangle(k),
                raster.minY <= rows.upperBound, raster.maxY >= rows.lowerBound
            else { continue }
            let shader = MouthSpanShader(
                target: target, sampler: sampler, background: background, planes: planes, mouth: mouthPlanes,
                mouthWidth: geometry.mouthWidth, drawsInterior: drawsMouthInterior)
            switch rasterizer {
            case .scanline: raster.forEachSpan(rows: rows) { y, x0, x1 in shader.shade(y: y, x0: x0, x1: x1) }
            case .reference:
                raster.forEachSpanReference { y, x0, x1 in
                    if rows.contains(y) { shader.shade(y: y, x0: x0, x1: x1) }
                }
            }
        }
    }

    /// Pixels no triangle covered keep the identity mapping (the background, as at rest). Coverage is
    /// scanned eight bytes at a time; almost every word has no zero byte.
    private func fillUncovered(_ target: RasterTarget, rows: ClosedRange<Int>) {
        let raw = UnsafeRawPointer(target.coverage)
        let identityU = geometry.identityU, identityV = geometry.identityV
        for y in rows {
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

    /// Turns off the background composite's shortcuts (person, background and identity triangles) for the next
    /// frames: every triangle of an avatar with a plate takes the full formula.
    func blendEveryTriangle(_ on: Bool) { geometry.blendsEveryTriangle = on }

    /// Coverage counts of the last decoded frame (how many triangles covered each pixel).
    func lastCoverage() -> [UInt8] { Array(coverage) }

    /// Output positions (pixels) of every vertex in the last decoded frame, as snapped for rasterization.
    func lastOutputPositions() -> [SIMD2<Float>] {
        (0..<geometry.deformer.vertexCount).map { SIMD2<Float>(geometry.deformer.snapped[$0]) / Float(Subpixel.one) }
    }
}
