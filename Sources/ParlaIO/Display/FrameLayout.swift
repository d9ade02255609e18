import Foundation

/// How the picture is turned on the screen, clockwise as seen by the viewer (`--rotate`). Use 90 or 270 for a
/// panel mounted in portrait orientation.
public enum Rotation: Int, Sendable, CaseIterable, CustomStringConvertible {
    case degrees0 = 0
    case degrees90 = 90
    case degrees180 = 180
    case degrees270 = 270

    /// Parses "0", "90", "180" or "270".
    public init(parsing text: String) throws {
        guard let degrees = Int(text.trimmingCharacters(in: .whitespaces)), let value = Rotation(rawValue: degrees) else {
            throw DisplayError("rotation '\(text)' is not one of 0, 90, 180, 270")
        }
        self = value
    }

    /// Whether the picture's width runs along the screen's height.
    public var swapsAxes: Bool { self == .degrees90 || self == .degrees270 }

    public var description: String { "\(rawValue)" }
}

/// How the picture is scaled into the screen mode (`--fit`).
public enum FitMode: String, Sendable, CaseIterable {
    /// The whole picture is visible, centred; the rest of the screen shows the background colour.
    case contain
    /// The picture fills the screen, centred; whatever does not fit is cut off.
    case cover

    /// Parses "contain" or "cover".
    public init(parsing text: String) throws {
        guard let value = FitMode(rawValue: text.lowercased()) else {
            throw DisplayError("fit '\(text)' is not 'contain' or 'cover'")
        }
        self = value
    }
}

/// An opaque colour (`--background`).
public struct RGBColor: Sendable, Equatable, CustomStringConvertible {
    /// Red, 0–255.
    public var red: UInt8
    /// Green, 0–255.
    public var green: UInt8
    /// Blue, 0–255.
    public var blue: UInt8

    /// A colour from its components.
    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// Parses "#rrggbb", "rrggbb", "#rgb" or "rgb" (hex digits, either case).
    public init(parsing text: String) throws {
        var hex = Substring(text.trimmingCharacters(in: .whitespaces))
        if hex.hasPrefix("#") { hex = hex.dropFirst() }
        let digits = hex.compactMap { $0.hexDigitValue }
        guard digits.count == hex.count, digits.count == 6 || digits.count == 3 else {
            throw DisplayError("colour '\(text)' is not of the form #rrggbb or #rgb")
        }
        let c = digits.map { UInt8($0) }
        if c.count == 3 {
            self.init(red: c[0] * 17, green: c[1] * 17, blue: c[2] * 17)
        } else {
            self.init(red: c[0] << 4 | c[1], green: c[2] << 4 | c[3], blue: c[4] << 4 | c[5])
        }
    }

    /// The colour as one XRGB8888 pixel value (0x00RRGGBB).
    public var xrgb: UInt32 { UInt32(red) << 16 | UInt32(green) << 8 | UInt32(blue) }

    public var description: String { String(format: "#%02x%02x%02x", red, green, blue) }
}

/// Where a `sourceWidth × sourceHeight` picture lands on a `targetWidth × targetHeight` screen after rotation and
/// fitting: a pure geometric description shared by the blitter, its reference and the tests.
///
/// Coordinates are continuous pixels with centres at half-integers. The rotated picture is scaled uniformly by
/// ``scale`` and centred; ``content`` is its rectangle on the screen (it may extend past the screen with
/// `.cover`). A screen pixel shows the picture when its centre lies inside ``content``.
public struct FrameLayout: Sendable, Equatable {
    /// The picture's width before rotation, pixels.
    public let sourceWidth: Int
    /// The picture's height before rotation, pixels.
    public let sourceHeight: Int
    /// The screen mode's width, pixels.
    public let targetWidth: Int
    /// The screen mode's height, pixels.
    public let targetHeight: Int
    /// How the picture is turned.
    public let rotation: Rotation
    /// How the picture is scaled.
    public let fit: FitMode
    /// Screen pixels per picture pixel.
    public let scale: Double
    /// The rotated, scaled picture's rectangle on the screen: origin and size in screen pixels.
    public let contentX: Double
    /// Top edge of the picture's rectangle on the screen (may be negative with `.cover`).
    public let contentY: Double
    /// Width of the picture's rectangle on the screen.
    public let contentWidth: Double
    /// Height of the picture's rectangle on the screen.
    public let contentHeight: Double

    /// Computes the layout; both sizes must be positive.
    public init(sourceWidth: Int, sourceHeight: Int, targetWidth: Int, targetHeight: Int,
                rotation: Rotation, fit: FitMode) throws {
        guard sourceWidth > 0, sourceHeight > 0, targetWidth > 0, targetHeight > 0 else {
            throw DisplayError("cannot fit a \(sourceWidth)x\(sourceHeight) picture into a \(targetWidth)x\(targetHeight) screen")
        }
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
        self.targetWidth = targetWidth
        self.targetHeight = targetHeight
        self.rotation = rotation
        self.fit = fit
        let rotatedWidth = Double(rotation.swapsAxes ? sourceHeight : sourceWidth)
        let rotatedHeight = Double(rotation.swapsAxes ? sourceWidth : sourceHeight)
        let sx = Double(targetWidth) / rotatedWidth, sy = Double(targetHeight) / rotatedHeight
        scale = fit == .contain ? min(sx, sy) : max(sx, sy)
        contentWidth = rotatedWidth * scale
        contentHeight = rotatedHeight * scale
        contentX = (Double(targetWidth) - contentWidth) / 2
        contentY = (Double(targetHeight) - contentHeight) / 2
    }

    /// Screen columns whose pixel centres fall inside the content (a contiguous range, possibly empty).
    public var contentColumns: Range<Int> { Self.centres(from: contentX, length: contentWidth, limit: targetWidth) }
    /// Screen rows whose pixel centres fall inside the content.
    public var contentRows: Range<Int> { Self.centres(from: contentY, length: contentHeight, limit: targetHeight) }

    /// The point of the (unrotated) source picture seen at screen point (`x`, `y`), continuous coordinates.
    /// Outside the content rectangle the result lies outside the source.
    public func sourcePoint(x: Double, y: Double) -> SIMD2<Double> {
        let u = (x - contentX) / scale, v = (y - contentY) / scale
        let w = Double(sourceWidth), h = Double(sourceHeight)
        switch rotation {
        case .degrees0: return SIMD2(u, v)
        case .degrees90: return SIMD2(v, h - u)
        case .degrees180: return SIMD2(w - u, h - v)
        case .degrees270: return SIMD2(w - v, u)
        }
    }

    /// The screen point where source point `p` appears (the inverse of ``sourcePoint(x:y:)``).
    public func targetPoint(ofSource p: SIMD2<Double>) -> SIMD2<Double> {
        let w = Double(sourceWidth), h = Double(sourceHeight)
        let uv: SIMD2<Double>
        switch rotation {
        case .degrees0: uv = p
        case .degrees90: uv = SIMD2(h - p.y, p.x)
        case .degrees180: uv = SIMD2(w - p.x, h - p.y)
        case .degrees270: uv = SIMD2(p.y, w - p.x)
        }
        return SIMD2(contentX, contentY) + uv * scale
    }

    /// Pixel indices i in 0..<limit with centre i + ½ in [start, start + length).
    static func centres(from start: Double, length: Double, limit: Int) -> Range<Int> {
        let first = max(0, Int((start - 0.5).rounded(.up)))
        let end = min(limit, Int((start + length - 0.5).rounded(.up)))
        return first < end ? first..<end : 0..<0
    }
}
