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
/// lines cached), so upscaling costs one vertical mix per screen pixel. All tables and the line cache are made in
/// `init`; ``blit(_:into:pitch:background:)`` allocates nothing. ``blitReference(_:into:pitch:)`` computes the
/// same pixels one at a time from the layout's geometry (the scalar reference). Not thread-safe (the cache):
/// one blitter per thread.
public final class FrameBlitter {
    /// The geometry it copies through.
    public let layout: FrameLayout
    /// The colour around and behind the picture.
    public let background: RGBColor
    /// Per screen column inside the content: byte offsets (within a source line) of the two taps along the screen's
    /// x axis — the source's x axis at rotation 0/180, its y axis at 90/270 — and the second tap's weight.
    private let columnOffset0: UnsafeMutableBufferPointer<Int>
    private let columnOffset1: UnsafeMutableBufferPointer<Int>
    private let columnWeight: UnsafeMutableBufferPointer<UInt32>
    /// Per screen row inside the content: byte offsets of the two source lines (rows at 0/180, columns at 90/270)
    /// and the second line's weight.
    private let rowOffset0: [Int]
    private let rowOffset1: [Int]
    private let rowWeight: [UInt32]
    /// Two source lines interpolated along the screen's x axis (R|B and G|A lane pairs), and which lines they are.
    private let cacheRB: [UnsafeMutableBufferPointer<UInt32>]
    private let cacheAG: [UnsafeMutableBufferPointer<UInt32>]
    private var cachedLine: [Int] = [-1, -1]

    /// Builds the tables for `layout`.
    public init(layout: FrameLayout, background: RGBColor) {
        self.layout = layout
        self.background = background
        let rowBytes = layout.sourceWidth * 4
        let columns = layout.contentColumns, rows = layout.contentRows
        let midY = Double(rows.isEmpty ? 0 : rows.lowerBound) + 0.5
        let midX = Double(columns.isEmpty ? 0 : columns.lowerBound) + 0.5
        columnOffset0 = .allocate(capacity: columns.count)
        columnOffset1 = .allocate(capacity: columns.count)
        columnWeight = .allocate(capacity: columns.count)
        for (k, x) in columns.enumerated() {
            let p = layout.sourcePoint(x: Double(x) + 0.5, y: midY)
            let tap = layout.rotation.swapsAxes ? AxisTap(coordinate: p.y, count: layout.sourceHeight)
                                                : AxisTap(coordinate: p.x, count: layout.sourceWidth)
            let stride = layout.rotation.swapsAxes ? rowBytes : 4
            columnOffset0[k] = tap.index0 * stride
            columnOffset1[k] = tap.index1 * stride
            columnWeight[k] = UInt32(tap.weight1)
        }
        var r0 = [Int](), r1 = [Int](), rw = [UInt32]()
        for y in rows {
            let p = layout.sourcePoint(x: midX, y: Double(y) + 0.5)
            let tap = layout.rotation.swapsAxes ? AxisTap(coordinate: p.x, count: layout.sourceWidth)
                                                : AxisTap(coordinate: p.y, count: layout.sourceHeight)
            let stride = layout.rotation.swapsAxes ? 4 : rowBytes
            r0.append(tap.index0 * stride); r1.append(tap.index1 * stride); rw.append(UInt32(tap.weight1))
        }
        rowOffset0 = r0; rowOffset1 = r1; rowWeight = rw
        cacheRB = (0..<2).map { _ in .allocate(capacity: max(1, columns.count)) }
        cacheAG = (0..<2).map { _ in .allocate(capacity: max(1, columns.count)) }
    }

    deinit {
        columnOffset0.deallocate(); columnOffset1.deallocate(); columnWeight.deallocate()
        for b in cacheRB + cacheAG { b.deallocate() }
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
        frame.pixels.withUnsafeBufferPointer { src in
            let base = UnsafeRawPointer(src.baseAddress!)
            cachedLine = [-1, -1]
            for y in 0..<layout.targetHeight {
                let out = (destination + y * pitch).assumingMemoryBound(to: UInt32.self)
                guard rows.contains(y) else {
                    if paintBorder { out.update(repeating: bg, count: layout.targetWidth) }
                    continue
                }
                if paintBorder {
                    out.update(repeating: bg, count: columns.lowerBound)
                    (out + columns.upperBound).update(repeating: bg, count: layout.targetWidth - columns.upperBound)
                }
                let r = y - rows.lowerBound
                let (a, b) = lines(rowOffset0[r], rowOffset1[r], from: base)
                let aRB = cacheRB[a].baseAddress!, aAG = cacheAG[a].baseAddress!
                let bRB = cacheRB[b].baseAddress!, bAG = cacheAG[b].baseAddress!
                let wy1 = rowWeight[r], wy0 = 256 - wy1
                let row = out + columns.lowerBound
                for k in 0..<width {
                    // Little-endian RGBA bytes: rb lanes hold B << 16 | R, ag lanes A << 16 | G.
                    let rb = (aRB[k] &* wy0 &+ bRB[k] &* wy1 &+ 0x0080_0080) >> 8 & 0x00FF_00FF
                    let ag = (aAG[k] &* wy0 &+ bAG[k] &* wy1 &+ 0x0080_0080) >> 8 & 0x00FF_00FF
                    if ag >> 16 == 255 {
                        row[k] = (rb & 0xFF) << 16 | (ag & 0xFF) << 8 | rb >> 16
                    } else {
                        row[k] = Self.over(red: rb & 0xFF, green: ag & 0xFF, blue: rb >> 16, alpha: ag >> 16, background)
                    }
                }
            }
        }
    }

    /// The cache slots holding source lines `first` and `second` (byte offsets) interpolated along the screen's x
    /// axis, computing whichever is missing into a slot the other does not use.
    private func lines(_ first: Int, _ second: Int, from base: UnsafeRawPointer) -> (Int, Int) {
        let a: Int
        if let hit = cachedLine.firstIndex(of: first) {
            a = hit
        } else {
            a = cachedLine[0] == second ? 1 : 0
            fill(slot: a, line: first, from: base)
        }
        if second == first { return (a, a) }
        if cachedLine[1 - a] != second { fill(slot: 1 - a, line: second, from: base) }
        return (a, 1 - a)
    }

    private func fill(slot: Int, line offset: Int, from base: UnsafeRawPointer) {
        let source = base + offset
        let rb = cacheRB[slot].baseAddress!, ag = cacheAG[slot].baseAddress!
        for k in 0..<columnWeight.count {
            let w1 = columnWeight[k], w0 = 256 - w1
            let mixed = Self.lerp(source.loadUnaligned(fromByteOffset: columnOffset0[k], as: UInt32.self),
                                  source.loadUnaligned(fromByteOffset: columnOffset1[k], as: UInt32.self), w0, w1)
            rb[k] = mixed.rb
            ag[k] = mixed.ag
        }
        cachedLine[slot] = offset
    }

    /// Two RGBA pixels (little-endian words) mixed with 8-bit weights summing to 256, two channels per 32-bit word
    /// (SWAR): each 16-bit lane holds at most 255 · 256 + 128, so no lane carries into the next.
    @inline(__always)
    static func lerp(_ a: UInt32, _ b: UInt32, _ w0: UInt32, _ w1: UInt32) -> (rb: UInt32, ag: UInt32) {
        let mask: UInt32 = 0x00FF_00FF, half: UInt32 = 0x0080_0080
        let rb = ((a & mask) &* w0 &+ (b & mask) &* w1 &+ half) >> 8 & mask
        let ag = ((a >> 8 & mask) &* w0 &+ (b >> 8 & mask) &* w1 &+ half) >> 8 & mask
        return (rb, ag)
    }

    /// Straight-alpha colour over the opaque background, rounded: (c · a + bg · (255 − a) + 127) / 255.
    @inline(__always)
    static func over(red: UInt32, green: UInt32, blue: UInt32, alpha: UInt32, _ bg: RGBColor) -> UInt32 {
        let inverse = 255 - alpha
        let r = (red * alpha + UInt32(bg.red) * inverse + 127) / 255
        let g = (green * alpha + UInt32(bg.green) * inverse + 127) / 255
        let b = (blue * alpha + UInt32(bg.blue) * inverse + 127) / 255
        return r << 16 | g << 8 | b
    }
}
