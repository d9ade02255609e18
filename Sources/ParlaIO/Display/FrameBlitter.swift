import ParlaMedia

/// One bilinear tap along one axis: the two neighbouring source pixels and the weight of the second, in 1/256.
struct AxisTap: Equatable {
    var index0: Int
    var index1: Int
    var weight1: Int32

    /// The tap for continuous source coordinate `c` (pixel centres at half-integers) on an axis of `count`
    /// pixels; edges clamp.
    init(coordinate c: Double, count: Int) {
        let p = c - 0.5
        var i = Int(p.rounded(.down))
        var w = Int32(((p - Double(i)) * 256).rounded())
        if w == 256 { i += 1; w = 0 }
        index0 = min(max(i, 0), count - 1)
        index1 = min(max(i + 1, 0), count - 1)
        weight1 = w
    }
}

/// Copies an RGBA frame onto an XRGB8888 scan-out buffer through a ``FrameLayout``: rotation, uniform scaling
/// (bilinear with 8-bit weights: first along the screen's x axis, rounded, then along its y axis, rounded),
/// centring, the background colour where the picture does not reach, and straight alpha blended over the
/// background.
///
/// Separable: each source line a screen row needs is interpolated along the screen's x axis once and kept (two
/// lines cached), so upscaling costs one vertical mix per screen pixel. Both passes run eight pixels at a time in
/// SIMD: the 16-bit lanes hold one channel each (R|B and G|A words, as the bytes lie in memory), with the same 8-bit
/// weights and roundings as the scalar reference, so the output is bit-exact with it. All tables and the line cache are made in
/// `init`; ``blit(_:into:pitch:background:)`` allocates nothing. ``blitReference(_:into:pitch:)`` computes the
/// same pixels one at a time from the layout's geometry (the scalar reference). Not thread-safe (the cache):
/// one blitter per thread.
public final class FrameBlitter {
    /// Pixels per SIMD step: eight XRGB words, sixteen 16-bit channel lanes.
    static let lanes = 8
    typealias Words = SIMD8<UInt32>
    typealias Channels = SIMD16<UInt16>

    /// The geometry it copies through.
    public let layout: FrameLayout
    /// The colour around and behind the picture.
    public let background: RGBColor
    /// Per screen column inside the content, padded to a whole number of SIMD steps (padding columns read pixel 0
    /// with weight 0): byte offsets (within a source line) of the two taps along the screen's x axis — the source's
    /// x axis at rotation 0/180, its y axis at 90/270.
    private let columnOffset0: UnsafeMutableBufferPointer<Int>
    private let columnOffset1: UnsafeMutableBufferPointer<Int>
    /// Per SIMD step of columns: the two taps' weights, each column's weight in both 16-bit lanes of its word.
    private let columnWeight0: UnsafeMutableBufferPointer<Channels>
    private let columnWeight1: UnsafeMutableBufferPointer<Channels>
    /// Per screen row inside the content: byte offsets of the two source lines (rows at 0/180, columns at 90/270)
    /// and the second line's weight.
    private let rowOffset0: [Int]
    private let rowOffset1: [Int]
    private let rowWeight: [UInt16]
    /// Two source lines interpolated along the screen's x axis, one SIMD step per element: R|B lanes (`cacheRB`)
    /// and G|A lanes (`cacheGA`), 8-bit values in 16-bit lanes; and which source lines they hold (-1: none).
    private let cacheRB: [UnsafeMutableBufferPointer<Channels>]
    private let cacheGA: [UnsafeMutableBufferPointer<Channels>]
    private var cachedLine: (Int, Int) = (-1, -1)
    /// SIMD steps per content row.
    private let steps: Int

    /// Builds the tables for `layout`.
    public init(layout: FrameLayout, background: RGBColor) {
        self.layout = layout
        self.background = background
        let rowBytes = layout.sourceWidth * 4
        let columns = layout.contentColumns, rows = layout.contentRows
        let midY = Double(rows.isEmpty ? 0 : rows.lowerBound) + 0.5
        let midX = Double(columns.isEmpty ? 0 : columns.lowerBound) + 0.5
        let steps = (columns.count + Self.lanes - 1) / Self.lanes
        self.steps = steps
        columnOffset0 = .allocate(capacity: max(1, steps * Self.lanes))
        columnOffset1 = .allocate(capacity: max(1, steps * Self.lanes))
        columnOffset0.initialize(repeating: 0)
        columnOffset1.initialize(repeating: 0)
        var weight1 = [UInt16](repeating: 0, count: steps * Self.lanes)
        for (k, x) in columns.enumerated() {
            let p = layout.sourcePoint(x: Double(x) + 0.5, y: midY)
            let tap = layout.rotation.swapsAxes ? AxisTap(coordinate: p.y, count: layout.sourceHeight)
                                                : AxisTap(coordinate: p.x, count: layout.sourceWidth)
            let stride = layout.rotation.swapsAxes ? rowBytes : 4
            columnOffset0[k] = tap.index0 * stride
            columnOffset1[k] = tap.index1 * stride
            weight1[k] = UInt16(tap.weight1)
        }
        columnWeight0 = .allocate(capacity: max(1, steps))
        columnWeight1 = .allocate(capacity: max(1, steps))
        for s in 0..<steps {
            var w0 = Channels(), w1 = Channels()
            for lane in 0..<Self.lanes {
                let w = weight1[s * Self.lanes + lane]
                w1[2 * lane] = w; w1[2 * lane + 1] = w
                w0[2 * lane] = 256 - w; w0[2 * lane + 1] = 256 - w
            }
            columnWeight0[s] = w0
            columnWeight1[s] = w1
        }
        var r0 = [Int](), r1 = [Int](), rw = [UInt16]()
        for y in rows {
            let p = layout.sourcePoint(x: midX, y: Double(y) + 0.5)
            let tap = layout.rotation.swapsAxes ? AxisTap(coordinate: p.x, count: layout.sourceWidth)
                                                : AxisTap(coordinate: p.y, count: layout.sourceHeight)
            let stride = layout.rotation.swapsAxes ? 4 : rowBytes
            r0.append(tap.index0 * stride); r1.append(tap.index1 * stride); rw.append(UInt16(tap.weight1))
        }
        rowOffset0 = r0; rowOffset1 = r1; rowWeight = rw
        cacheRB = (0..<2).map { _ in .allocate(capacity: max(1, steps)) }
        cacheGA = (0..<2).map { _ in .allocate(capacity: max(1, steps)) }
    }

    deinit {
        columnOffset0.deallocate(); columnOffset1.deallocate(); columnWeight0.deallocate(); columnWeight1.deallocate()
        for b in cacheRB + cacheGA { b.deallocate() }
    }

    /// Writes the screen: `layout.targetHeight` rows of `layout.targetWidth` XRGB8888 pixels, `pitch` bytes apart,
    /// starting at `destination`. `frame` must be `layout.sourceWidth × layout.sourceHeight`.
    /// - Parameter background: also paint the border around the picture; pass false when the buffer already holds
    ///   it (KMS buffers are created filled with the background, and the border never changes).
    public func blit(_ frame: RGBAImage, into destination: UnsafeMutableRawPointer, pitch: Int, background paintBorder: Bool = true) {
        precondition(frame.width == layout.sourceWidth && frame.height == layout.sourceHeight, "frame size differs from the layout")
        precondition(pitch >= layout.targetWidth * 4, "pitch too small")
        let columns = layout.contentColumns, rows = layout.contentRows
        let bg = background.xrgb
        let width = columns.count
        let fullSteps = width / Self.lanes, tail = width % Self.lanes
        // The background under the picture, in the lanes the blend uses (alpha lanes 0).
        let bgRB = unsafeBitCast(Words(repeating: UInt32(background.blue) << 16 | UInt32(background.red)), to: Channels.self)
        let bgGA = unsafeBitCast(Words(repeating: UInt32(background.green)), to: Channels.self)
        frame.pixels.withUnsafeBufferPointer { src in
            let base = UnsafeRawPointer(src.baseAddress!)
            cachedLine = (-1, -1)
            for y in 0..<layout.targetHeight {
                let out = destination + y * pitch
                guard rows.contains(y) else {
                    if paintBorder { out.assumingMemoryBound(to: UInt32.self).update(repeating: bg, count: layout.targetWidth) }
                    continue
                }
                if paintBorder {
                    let words = out.assumingMemoryBound(to: UInt32.self)
                    words.update(repeating: bg, count: columns.lowerBound)
                    (words + columns.upperBound).update(repeating: bg, count: layout.targetWidth - columns.upperBound)
                }
                let r = y - rows.lowerBound
                let (a, b) = lines(rowOffset0[r], rowOffset1[r], from: base)
                let aRB = cacheRB[a].baseAddress!, aGA = cacheGA[a].baseAddress!
                let bRB = cacheRB[b].baseAddress!, bGA = cacheGA[b].baseAddress!
                let wy1 = rowWeight[r], wy0 = 256 - wy1
                let row = out + columns.lowerBound * 4
                for s in 0..<fullSteps {
                    let pixels = Self.mix(aRB[s], aGA[s], bRB[s], bGA[s], wy0, wy1, bgRB, bgGA)
                    row.storeBytes(of: pixels, toByteOffset: s * Self.lanes * 4, as: Words.self)
                }
                if tail > 0 {
                    let s = fullSteps
                    let pixels = Self.mix(aRB[s], aGA[s], bRB[s], bGA[s], wy0, wy1, bgRB, bgGA)
                    for lane in 0..<tail {
                        row.storeBytes(of: pixels[lane], toByteOffset: (s * Self.lanes + lane) * 4, as: UInt32.self)
                    }
                }
            }
        }
    }

    /// Eight screen pixels from two cached lines: mixed along the screen's y axis with 8-bit weights (rounded), then
    /// (unless all eight are opaque) straight alpha over the background, rounded — (c · a + bg · (255 − a) + 127) /
    /// 255, which leaves opaque pixels as they are — and packed as XRGB8888. Every 16-bit lane stays ≤ 255 · 256 + 128, so nothing wraps.
    @inline(__always)
    static func mix(_ aRB: Channels, _ aGA: Channels, _ bRB: Channels, _ bGA: Channels, _ w0: UInt16, _ w1: UInt16,
                    _ bgRB: Channels, _ bgGA: Channels) -> Words {
        let rb: Channels = (aRB &* w0 &+ bRB &* w1 &+ 128) &>> 8
        let ga: Channels = (aGA &* w0 &+ bGA &* w1 &+ 128) &>> 8
        let alphaWords: Words = unsafeBitCast(ga, to: Words.self) &>> 16
        let halves = alphaWords.lowHalf & alphaWords.highHalf, quarters = halves.lowHalf & halves.highHalf
        if quarters[0] & quarters[1] == 255 {   // all eight opaque, the usual case: no blend
            let rbWords = unsafeBitCast(rb, to: Words.self), gaWords = unsafeBitCast(ga, to: Words.self)
            return (rbWords & 0xFF) &<< 16 | (gaWords & 0xFF) &<< 8 | rbWords &>> 16
        }
        let alpha = unsafeBitCast(alphaWords | alphaWords &<< 16, to: Channels.self)
        let inverse: Channels = 255 &- alpha
        let rbOut = unsafeBitCast(divide255(rb &* alpha &+ bgRB &* inverse &+ 127), to: Words.self)
        let gOut = unsafeBitCast(divide255(ga &* alpha &+ bgGA &* inverse &+ 127), to: Words.self)
        return (rbOut & 0xFF) &<< 16 | (gOut & 0xFF) &<< 8 | rbOut &>> 16
    }

    /// ⌊x / 255⌋ for x ≤ 255 · 255 + 127 (checked over that whole range in the tests).
    @inline(__always)
    static func divide255(_ x: Channels) -> Channels {
        (x &+ 1 &+ (x &>> 8)) &>> 8
    }

    /// The cache slots holding source lines `first` and `second` (byte offsets) interpolated along the screen's x
    /// axis, computing whichever is missing into a slot the other does not use.
    private func lines(_ first: Int, _ second: Int, from base: UnsafeRawPointer) -> (Int, Int) {
        let a: Int
        if cachedLine.0 == first {
            a = 0
        } else if cachedLine.1 == first {
            a = 1
        } else {
            a = cachedLine.0 == second ? 1 : 0
            fill(slot: a, line: first, from: base)
        }
        if second == first { return (a, a) }
        if (a == 0 ? cachedLine.1 : cachedLine.0) != second { fill(slot: 1 - a, line: second, from: base) }
        return (a, 1 - a)
    }

    /// Interpolates one source line along the screen's x axis into a cache slot, eight columns per step: the two
    /// taps' pixels gathered into words, split into R|B and G|A lanes, mixed with 8-bit weights and rounded.
    private func fill(slot: Int, line offset: Int, from base: UnsafeRawPointer) {
        let source = base + offset
        let rb = cacheRB[slot].baseAddress!, ga = cacheGA[slot].baseAddress!
        let o0 = columnOffset0.baseAddress!, o1 = columnOffset1.baseAddress!
        for s in 0..<steps {
            let k = s * Self.lanes
            @inline(__always) func gather(_ o: UnsafeMutablePointer<Int>) -> Words {
                Words(source.loadUnaligned(fromByteOffset: o[k], as: UInt32.self),
                      source.loadUnaligned(fromByteOffset: o[k + 1], as: UInt32.self),
                      source.loadUnaligned(fromByteOffset: o[k + 2], as: UInt32.self),
                      source.loadUnaligned(fromByteOffset: o[k + 3], as: UInt32.self),
                      source.loadUnaligned(fromByteOffset: o[k + 4], as: UInt32.self),
                      source.loadUnaligned(fromByteOffset: o[k + 5], as: UInt32.self),
                      source.loadUnaligned(fromByteOffset: o[k + 6], as: UInt32.self),
                      source.loadUnaligned(fromByteOffset: o[k + 7], as: UInt32.self))
            }
            let p0 = gather(o0), p1 = gather(o1)
            let w0 = columnWeight0[s], w1 = columnWeight1[s]
            // Little-endian RGBA bytes: the R|B lanes of a word hold B << 16 | R, its G|A lanes A << 16 | G.
            let rb0 = unsafeBitCast(p0 & 0x00FF_00FF, to: Channels.self), rb1 = unsafeBitCast(p1 & 0x00FF_00FF, to: Channels.self)
            let ga0 = unsafeBitCast(p0 &>> 8 & 0x00FF_00FF, to: Channels.self), ga1 = unsafeBitCast(p1 &>> 8 & 0x00FF_00FF, to: Channels.self)
            rb[s] = (rb0 &* w0 &+ rb1 &* w1 &+ 128) &>> 8
            ga[s] = (ga0 &* w0 &+ ga1 &* w1 &+ 128) &>> 8
        }
        if slot == 0 { cachedLine.0 = offset } else { cachedLine.1 = offset }
    }
}
