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
/// (bilinear, 8-bit weights), centring, the background colour where the picture does not reach, and straight
/// alpha blended over the background.
///
/// All tables are built in `init`; ``blit(_:into:pitch:)`` allocates nothing. ``blitReference(_:into:pitch:)``
/// computes the same pixels one at a time from the layout's geometry (the scalar reference).
public struct FrameBlitter: Sendable {
    public let layout: FrameLayout
    public let background: RGBColor
    /// Per screen column / row inside the content: byte offsets of the two source taps and the second's weight.
    /// Columns walk the source's x axis (rotation 0/180) or y axis (90/270); rows the other one.
    private let columnOffset0: [Int]
    private let columnOffset1: [Int]
    private let columnWeight: [Int32]
    private let rowOffset0: [Int]
    private let rowOffset1: [Int]
    private let rowWeight: [Int32]

    /// Builds the tables for `layout`.
    public init(layout: FrameLayout, background: RGBColor) {
        self.layout = layout
        self.background = background
        let rowBytes = layout.sourceWidth * 4
        let columns = layout.contentColumns, rows = layout.contentRows
        let midY = Double(rows.isEmpty ? 0 : rows.lowerBound) + 0.5
        let midX = Double(columns.isEmpty ? 0 : columns.lowerBound) + 0.5
        var c0 = [Int](), c1 = [Int](), cw = [Int32]()
        for x in columns {
            let p = layout.sourcePoint(x: Double(x) + 0.5, y: midY)
            if layout.rotation.swapsAxes {
                let tap = AxisTap(coordinate: p.y, count: layout.sourceHeight)
                c0.append(tap.index0 * rowBytes); c1.append(tap.index1 * rowBytes); cw.append(tap.weight1)
            } else {
                let tap = AxisTap(coordinate: p.x, count: layout.sourceWidth)
                c0.append(tap.index0 * 4); c1.append(tap.index1 * 4); cw.append(tap.weight1)
            }
        }
        var r0 = [Int](), r1 = [Int](), rw = [Int32]()
        for y in rows {
            let p = layout.sourcePoint(x: midX, y: Double(y) + 0.5)
            if layout.rotation.swapsAxes {
                let tap = AxisTap(coordinate: p.x, count: layout.sourceWidth)
                r0.append(tap.index0 * 4); r1.append(tap.index1 * 4); rw.append(tap.weight1)
            } else {
                let tap = AxisTap(coordinate: p.y, count: layout.sourceHeight)
                r0.append(tap.index0 * rowBytes); r1.append(tap.index1 * rowBytes); rw.append(tap.weight1)
            }
        }
        columnOffset0 = c0; columnOffset1 = c1; columnWeight = cw
        rowOffset0 = r0; rowOffset1 = r1; rowWeight = rw
    }

    /// Writes the whole screen: `layout.targetHeight` rows of `layout.targetWidth` XRGB8888 pixels, `pitch` bytes
    /// apart, starting at `destination`. `frame` must be `layout.sourceWidth × layout.sourceHeight`.
    public func blit(_ frame: RGBAImage, into destination: UnsafeMutableRawPointer, pitch: Int) {
        precondition(frame.width == layout.sourceWidth && frame.height == layout.sourceHeight, "frame size differs from the layout")
        precondition(pitch >= layout.targetWidth * 4, "pitch too small")
        let columns = layout.contentColumns, rows = layout.contentRows
        let bg = background.xrgb
        let bgVector = SIMD4<Int32>(Int32(background.red), Int32(background.green), Int32(background.blue), 0)
        frame.pixels.withUnsafeBufferPointer { src in
            columnOffset0.withUnsafeBufferPointer { c0 in
            columnOffset1.withUnsafeBufferPointer { c1 in
            columnWeight.withUnsafeBufferPointer { cw in
                let base = UnsafeRawPointer(src.baseAddress!)
                for y in 0..<layout.targetHeight {
                    let out = (destination + y * pitch).assumingMemoryBound(to: UInt32.self)
                    guard rows.contains(y) else {
                        out.update(repeating: bg, count: layout.targetWidth)
                        continue
                    }
                    let r = y - rows.lowerBound
                    let rowA = base + rowOffset0[r], rowB = base + rowOffset1[r]
                    let wy1 = rowWeight[r], wy0 = 256 - wy1
                    out.update(repeating: bg, count: columns.lowerBound)
                    (out + columns.upperBound).update(repeating: bg, count: layout.targetWidth - columns.upperBound)
                    for k in 0..<columns.count {
                        let wx1 = cw[k], wx0 = 256 - wx1
                        let o0 = c0[k], o1 = c1[k]
                        let top = Self.load(rowA + o0) &* wx0 &+ Self.load(rowA + o1) &* wx1
                        let bottom = Self.load(rowB + o0) &* wx0 &+ Self.load(rowB + o1) &* wx1
                        var px = (top &* wy0 &+ bottom &* wy1 &+ 32768) &>> 16
                        let alpha = px[3]
                        if alpha != 255 {
                            px = (px &* alpha &+ bgVector &* (255 - alpha) &+ 127) / 255
                        }
                        out[columns.lowerBound + k] = UInt32(truncatingIfNeeded: px[0] << 16 | px[1] << 8 | px[2])
                    }
                }
            }
            }
            }
        }
    }

    @inline(__always)
    private static func load(_ p: UnsafeRawPointer) -> SIMD4<Int32> {
        SIMD4<Int32>(truncatingIfNeeded: p.loadUnaligned(as: SIMD4<UInt8>.self))
    }
}
