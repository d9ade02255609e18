import CImageCodecs
import Foundation

/// JPEG and PNG decoding to ``RGBAImage`` and PNG/JPEG encoding, through libjpeg-turbo and libpng.
///
/// Decoding sniffs the content (never the file extension), refuses oversized images from the header before
/// allocating pixel memory, treats truncated files as errors, and turns JPEG EXIF orientation into an
/// upright picture. Every failure is a ``MediaError`` naming the file.
public enum ImageCodec {
    /// Largest accepted width or height in pixels.
    public static let maximumSide = 20_000
    /// Largest accepted pixel count (100 megapixels, 400 MB as RGBA).
    public static let maximumPixelCount = 100_000_000

    /// The container formats recognised by their first bytes.
    public enum Format: String, Sendable {
        case jpeg = "JPEG"
        case png = "PNG"
    }

    /// Decodes a JPEG or PNG file (sniffed by content, not extension) to RGBA, applying the JPEG EXIF orientation.
    public static func decode(contentsOf url: URL) throws -> RGBAImage {
        try decode(data: MediaFileIO.readBytes(of: url), name: url.path)
    }

    /// Decodes JPEG or PNG bytes to RGBA, applying the JPEG EXIF orientation; `name` is used in error messages.
    public static func decode(data: [UInt8], name: String) throws -> RGBAImage {
        try decode(data: data, name: name, scaleDenominator: 1)
    }

    /// Decodes like ``decode(data:name:)`` but lets libjpeg shrink a JPEG by 2, 4 or 8 while decoding (much
    /// faster than decoding in full and resizing) as long as both sides stay at least `minimumSide` pixels
    /// (measured before orientation). PNGs are always decoded at full size.
    public static func decode(data: [UInt8], name: String, minimumSide: Int) throws -> RGBAImage {
        guard sniff(data) == .jpeg else { return try decode(data: data, name: name, scaleDenominator: 1) }
        let info = try jpegInfo(data, name: name, scaleDenominator: 1)
        let width = Int(info.width), height = Int(info.height)
        var denominator = 1
        while denominator < 8 {
            let next = denominator * 2
            // libjpeg rounds scaled sizes up.
            if (width + next - 1) / next < minimumSide || (height + next - 1) / next < minimumSide { break }
            denominator = next
        }
        return try decode(data: data, name: name, scaleDenominator: denominator)
    }

    /// Reads and decodes a file like ``decode(data:name:minimumSide:)``.
    public static func decode(contentsOf url: URL, minimumSide: Int) throws -> RGBAImage {
        try decode(data: MediaFileIO.readBytes(of: url), name: url.path, minimumSide: minimumSide)
    }

    /// The format the bytes are in, or nil when they are neither JPEG nor PNG.
    public static func sniff(_ data: [UInt8]) -> Format? {
        if data.count >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF { return .jpeg }
        if data.count >= 8 && Array(data[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] { return .png }
        return nil
    }

    /// Encodes an image as an 8-bit PNG (RGB when every pixel is opaque, RGBA otherwise) at zlib level 6.
    public static func encodePNG(_ image: RGBAImage) throws -> [UInt8] {
        try encodePNG(image, compressionLevel: 6)
    }

    /// Encodes an image as an 8-bit PNG at a zlib `compressionLevel` in 0...9 (1 is fast, 9 is small).
    public static func encodePNG(_ image: RGBAImage, compressionLevel: Int) throws -> [UInt8] {
        try checkEncodable(image, format: "PNG")
        let opaque = image.pixels.withUnsafeBufferPointer { p in
            var allOpaque = true
            var i = 3
            while i < p.count { if p[i] != 255 { allOpaque = false; break }; i += 4 }
            return allOpaque
        }
        return try encode(image, format: "PNG") { pixels, out, size, status in
            cic_png_encode_rgba(pixels, Int32(image.width), Int32(image.height), opaque ? 0 : 1,
                                Int32(max(0, min(9, compressionLevel))), out, size, status)
        }
    }

    /// Encodes an image as a baseline JPEG (alpha dropped) at `quality` 1...100.
    public static func encodeJPEG(_ image: RGBAImage, quality: Int = 90) throws -> [UInt8] {
        try checkEncodable(image, format: "JPEG")
        guard image.width <= 65_500 && image.height <= 65_500 else {
            throw MediaError(file: "<memory>", problem: "cannot encode JPEG larger than 65500 pixels on a side")
        }
        return try encode(image, format: "JPEG") { pixels, out, size, status in
            cic_jpeg_encode_rgba(pixels, Int32(image.width), Int32(image.height), Int32(max(1, min(100, quality))),
                                 out, size, status)
        }
    }

    /// Encodes `image` as PNG and writes it atomically (temporary file, then rename).
    public static func writePNG(_ image: RGBAImage, to url: URL) throws {
        let bytes: [UInt8]
        do { bytes = try encodePNG(image) } catch let error as MediaError {
            throw MediaError(file: url.path, problem: error.problem)
        }
        try MediaFileIO.writeAtomically(bytes, to: url)
    }

    // MARK: - Decoding

    static func decode(data: [UInt8], name: String, scaleDenominator: Int) throws -> RGBAImage {
        if data.isEmpty { throw MediaError(file: name, problem: "empty file") }
        switch sniff(data) {
        case .jpeg:
            let info = try jpegInfo(data, name: name, scaleDenominator: scaleDenominator)
            let width = Int(info.output_width), height = Int(info.output_height)
            let pixels = try decodePixels(width: width, height: height, format: "JPEG", name: name) { out, status in
                data.withUnsafeBufferPointer {
                    cic_jpeg_decode_rgba($0.baseAddress, $0.count, Int32(scaleDenominator), out,
                                         Int32(width), Int32(height), status)
                }
            }
            let image = RGBAImage(width: width, height: height, pixels: pixels)
            return image.applyingOrientation(ExifOrientation.read(fromJPEG: data))
        case .png:
            var info = cic_png_info()
            var status = cic_status()
            let code = data.withUnsafeBufferPointer { cic_png_read_info($0.baseAddress, $0.count, &info, &status) }
            if Int(code) != CIC_OK { throw codecError(code, status, format: "PNG", name: name) }
            let width = Int(info.width), height = Int(info.height)
            try checkSize(width: width, height: height, format: "PNG", name: name)
            let pixels = try decodePixels(width: width, height: height, format: "PNG", name: name) { out, status in
                data.withUnsafeBufferPointer {
                    cic_png_decode_rgba($0.baseAddress, $0.count, out, Int32(width), Int32(height), status)
                }
            }
            return RGBAImage(width: width, height: height, pixels: pixels)
        case nil:
            throw MediaError(file: name, problem: "not a JPEG or PNG image (\(describeUnknown(data)))")
        }
    }

    private static func jpegInfo(_ data: [UInt8], name: String, scaleDenominator: Int) throws -> cic_jpeg_info {
        var info = cic_jpeg_info()
        var status = cic_status()
        let code = data.withUnsafeBufferPointer {
            cic_jpeg_read_info($0.baseAddress, $0.count, Int32(scaleDenominator), &info, &status)
        }
        if Int(code) != CIC_OK { throw codecError(code, status, format: "JPEG", name: name) }
        try checkSize(width: Int(info.width), height: Int(info.height), format: "JPEG", name: name)
        return info
    }

    /// Refuses images whose header promises more pixels than we are willing to allocate.
    private static func checkSize(width: Int, height: Int, format: String, name: String) throws {
        if width <= 0 || height <= 0 {
            throw MediaError(file: name, problem: "\(format) has zero size (\(width)x\(height))")
        }
        if width > maximumSide || height > maximumSide || width * height > maximumPixelCount {
            throw MediaError(file: name, problem: "\(format) is \(width)x\(height), larger than the limit of "
                + "\(maximumSide) pixels a side and \(maximumPixelCount / 1_000_000) megapixels")
        }
    }

    private static func decodePixels(
        width: Int, height: Int, format: String, name: String,
        _ body: (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<cic_status>) -> Int32
    ) throws -> [UInt8] {
        var status = cic_status()
        var code: Int32 = 0
        let count = width * height * 4
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            code = body(buffer.baseAddress!, &status)
            if Int(code) != CIC_OK { buffer.baseAddress!.initialize(repeating: 0, count: count) }
            initialized = count
        }
        if Int(code) != CIC_OK { throw codecError(code, status, format: format, name: name) }
        return pixels
    }

    private static func encode(
        _ image: RGBAImage, format: String,
        _ body: (UnsafePointer<UInt8>, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<Int>,
                 UnsafeMutablePointer<cic_status>) -> Int32
    ) throws -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var status = cic_status()
        let code = image.pixels.withUnsafeBufferPointer { body($0.baseAddress!, &output, &size, &status) }
        defer { cic_free(output) }
        if Int(code) != CIC_OK { throw codecError(code, status, format: format, name: "<memory>") }
        guard let output else { throw MediaError(file: "<memory>", problem: "\(format) encoder returned no data") }
        return Array(UnsafeBufferPointer(start: output, count: size))
    }

    private static func checkEncodable(_ image: RGBAImage, format: String) throws {
        if image.width <= 0 || image.height <= 0 {
            throw MediaError(file: "<memory>", problem: "cannot encode an empty \(image.width)x\(image.height) image as \(format)")
        }
        if image.width > Int(Int32.max) / 4 || image.height > Int(Int32.max) {
            throw MediaError(file: "<memory>", problem: "cannot encode a \(image.width)x\(image.height) image as \(format): too large")
        }
    }

    private static func codecError(_ code: Int32, _ status: cic_status, format: String, name: String) -> MediaError {
        var status = status
        let message = withUnsafeBytes(of: &status.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        switch code {
        case Int32(CIC_TRUNCATED):
            return MediaError(file: name, problem: "truncated \(format) (\(message))")
        case Int32(CIC_UNSUPPORTED):
            return MediaError(file: name, problem: message)
        case Int32(CIC_NO_MEMORY):
            return MediaError(file: name, problem: "out of memory decoding \(format) (\(message))")
        default:
            return MediaError(file: name, problem: "corrupt \(format): \(message)")
        }
    }

    /// Names common formats we do not read, so the message tells the user what to convert from.
    private static func describeUnknown(_ data: [UInt8]) -> String {
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            data.count >= offset + prefix.count && Array(data[offset..<offset + prefix.count]) == prefix
        }
        let ascii: (String) -> [UInt8] = { Array($0.utf8) }
        if starts(ascii("GIF8")) { return "it is a GIF; convert it to PNG or JPEG" }
        if starts(ascii("RIFF")) && starts(ascii("WEBP"), at: 8) { return "it is a WebP; convert it to PNG or JPEG" }
        if starts(ascii("BM")) { return "it looks like a BMP; convert it to PNG or JPEG" }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) {
            return "it is a TIFF; convert it to PNG or JPEG"
        }
        if starts(ascii("ftyp"), at: 4) { return "it is an ISO media file (HEIC/AVIF/MP4?); convert it to PNG or JPEG" }
        let head = data.prefix(4).map { String(format: "%02X", $0) }.joined(separator: " ")
        return "starts with bytes \(head)"
    }
}
