/// The eight EXIF orientations (TIFF tag 0x0112): how the stored pixels must be transformed to show upright.
public enum ExifOrientation: Int, Sendable, CaseIterable {
    /// Stored upright.
    case up = 1
    /// Mirrored left to right.
    case upMirrored = 2
    /// Rotated 180°.
    case down = 3
    /// Mirrored top to bottom.
    case downMirrored = 4
    /// Mirrored across the main diagonal (transpose).
    case leftMirrored = 5
    /// Must be rotated 90° clockwise to show upright.
    case right = 6
    /// Mirrored across the anti-diagonal (transverse).
    case rightMirrored = 7
    /// Must be rotated 90° counter-clockwise to show upright.
    case left = 8

    /// True when the upright picture has width and height swapped relative to the stored one.
    public var swapsAxes: Bool { rawValue >= 5 }

    /// Finds the orientation in a JPEG's APP1 "Exif" segment; `.up` when absent, unreadable or out of range.
    ///
    /// Walks the marker segments up to the first scan, bounds-checking every read, so truncated or corrupt
    /// EXIF data is ignored rather than trusted.
    public static func read(fromJPEG data: [UInt8]) -> ExifOrientation {
        data.withUnsafeBufferPointer { readJPEG(ByteReader(bytes: $0)) } ?? .up
    }

    /// Reads the orientation tag from a TIFF structure (the payload of an Exif segment after "Exif\0\0").
    public static func read(fromTIFF data: [UInt8]) -> ExifOrientation {
        data.withUnsafeBufferPointer { readTIFF(ByteReader(bytes: $0), base: 0, limit: $0.count) } ?? .up
    }

    private static func readJPEG(_ r: ByteReader) -> ExifOrientation? {
        guard r.u8(0) == 0xFF, r.u8(1) == 0xD8 else { return nil }
        var position = 2
        while position < r.count {
            // Markers may be preceded by any number of 0xFF fill bytes.
            guard r.u8(position) == 0xFF else { return nil }
            while r.u8(position) == 0xFF { position += 1 }
            guard let marker = r.u8(position) else { return nil }
            position += 1
            if marker == 0x01 || (0xD0...0xD7).contains(marker) { continue }  // stand-alone markers
            if marker == 0xDA || marker == 0xD9 { return nil }  // start of scan / end of image: no EXIF before
            guard let length = r.u16(position, bigEndian: true), length >= 2 else { return nil }
            let payload = position + 2
            let end = position + Int(length)
            guard end <= r.count else { return nil }
            if marker == 0xE1, end - payload >= 14,
               r.matches(payload, [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]),  // "Exif\0\0"
               let found = readTIFF(r, base: payload + 6, limit: end)
            {
                return found
            }
            position = end
        }
        return nil
    }

    /// Reads IFD0 of a TIFF header starting at `base`; every offset is relative to `base` and must stay below `limit`.
    private static func readTIFF(_ r: ByteReader, base: Int, limit: Int) -> ExifOrientation? {
        guard limit <= r.count, base >= 0, base + 8 <= limit else { return nil }
        let bigEndian: Bool
        if r.matches(base, [0x49, 0x49]) { bigEndian = false } else if r.matches(base, [0x4D, 0x4D]) { bigEndian = true } else { return nil }
        guard r.u16(base + 2, bigEndian: bigEndian) == 42, let ifdOffset = r.u32(base + 4, bigEndian: bigEndian) else { return nil }
        let ifd = base + Int(ifdOffset)
        guard Int(ifdOffset) >= 8, ifd + 2 <= limit, let entryCount = r.u16(ifd, bigEndian: bigEndian) else { return nil }
        for index in 0..<Int(entryCount) {
            let entry = ifd + 2 + index * 12
            guard entry + 12 <= limit, let tag = r.u16(entry, bigEndian: bigEndian) else { return nil }
            guard tag == 0x0112 else { continue }
            guard let type = r.u16(entry + 2, bigEndian: bigEndian), let count = r.u32(entry + 4, bigEndian: bigEndian),
                  count >= 1 else { return nil }
            let value: Int?
            switch type {
            case 3: value = r.u16(entry + 8, bigEndian: bigEndian).map(Int.init)  // SHORT, stored inline
            case 4: value = r.u32(entry + 8, bigEndian: bigEndian).map(Int.init)  // LONG (non-standard but seen)
            default: value = nil
            }
            return value.flatMap(ExifOrientation.init(rawValue:))
        }
        return nil
    }
}

/// Bounds-checked reads over a byte buffer: out-of-range reads return nil instead of trapping.
private struct ByteReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var count: Int { bytes.count }

    func u8(_ i: Int) -> UInt8? { i >= 0 && i < bytes.count ? bytes[i] : nil }

    func u16(_ i: Int, bigEndian: Bool) -> UInt16? {
        guard i >= 0, i + 2 <= bytes.count else { return nil }
        let a = UInt16(bytes[i]), b = UInt16(bytes[i + 1])
        return bigEndian ? a << 8 | b : b << 8 | a
    }

    func u32(_ i: Int, bigEndian: Bool) -> UInt32? {
        guard i >= 0, i + 4 <= bytes.count else { return nil }
        var v: UInt32 = 0
        for k in 0..<4 { v |= UInt32(bytes[i + (bigEndian ? k : 3 - k)]) << (8 * (3 - k)) }
        return v
    }

    func matches(_ i: Int, _ expected: [UInt8]) -> Bool {
        guard i >= 0, i + expected.count <= bytes.count else { return false }
        for (k, b) in expected.enumerated() where bytes[i + k] != b { return false }
        return true
    }
}

extension RGBAImage {
    /// The upright picture for pixels stored with the given EXIF orientation.
    public func applyingOrientation(_ orientation: ExifOrientation) -> RGBAImage {
        if orientation == .up { return self }
        let w = width, h = height
        let outW = orientation.swapsAxes ? h : w
        let outH = orientation.swapsAxes ? w : h
        // Displayed (x, y) comes from stored index origin + x·stepX + y·stepY.
        let last = (h - 1) * w
        let (origin, stepX, stepY): (Int, Int, Int)
        switch orientation {
        case .up: (origin, stepX, stepY) = (0, 1, w)
        case .upMirrored: (origin, stepX, stepY) = (w - 1, -1, w)
        case .down: (origin, stepX, stepY) = (last + w - 1, -1, -w)
        case .downMirrored: (origin, stepX, stepY) = (last, 1, -w)
        case .leftMirrored: (origin, stepX, stepY) = (0, w, 1)
        case .right: (origin, stepX, stepY) = (last, -w, 1)
        case .rightMirrored: (origin, stepX, stepY) = (last + w - 1, -w, -1)
        case .left: (origin, stepX, stepY) = (w - 1, w, -1)
        }
        var out = [UInt8](repeating: 0, count: outW * outH * 4)
        pixels.withUnsafeBytes { srcRaw in
            out.withUnsafeMutableBytes { dstRaw in
                for y in 0..<outH {
                    var index = origin + y * stepY
                    let row = y * outW
                    for x in 0..<outW {
                        let pixel = srcRaw.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)
                        dstRaw.storeBytes(of: pixel, toByteOffset: (row + x) * 4, as: UInt32.self)
                        index += stepX
                    }
                }
            }
        }
        return RGBAImage(width: outW, height: outH, pixels: out)
    }
}
