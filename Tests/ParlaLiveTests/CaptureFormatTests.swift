import Foundation
import ParlaTestSupport
import XCTest
@testable import ParlaIO

/// Capture devices that do not take 16-bit samples (many USB and I2S microphones' `hw:` devices offer only S32_LE,
/// S24_3LE or FLOAT_LE): the conversion of every format against its byte-by-byte reference, the order formats are
/// asked in, a real capture of each through ALSA's `file` plugin, and the one-line error when nothing fits.
///
/// The `file` plugin over `null` takes every format, so it cannot present a device that refuses S16_LE: the capture
/// tests ask for one format at a time (``ALSACapture``'s `formats`), and the refusal is a `mulaw` plugin (it offers
/// only MU_LAW over a linear slave).
final class CaptureFormatTests: XCTestCase {
    func randomBytes(_ count: Int, _ rng: inout SeededGenerator) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    func testConversionMatchesTheReferenceBitForBit() {
        var rng = SeededGenerator(seed: 49)
        for format in ALSASampleFormat.allCases {
            for count in [0, 1, 2, 3, 7, 31, 160, 481, 1023] {
                // Random bytes: every bit pattern, including the S24_LE padding byte and float NaN/∞/out of range.
                var bytes = randomBytes(count * format.bytes + 1, &rng)
                if format == .float32le && count > 6 {
                    // Some plain in-range floats too (random bit patterns are mostly huge or tiny).
                    for (k, v) in [Float(0.5), -0.25, 1, -1, 0.999, -0.0].enumerated() {
                        withUnsafeBytes(of: v.bitPattern.littleEndian) { for j in 0..<4 { bytes[1 + 4 * k + j] = $0[j] } }
                    }
                }
                var fast = [Float](repeating: .nan, count: count + 1)
                // Start one byte in: the device buffer need not be aligned for the sample type.
                bytes.withUnsafeBytes { raw in
                    fast.withUnsafeMutableBufferPointer { format.convert(raw.baseAddress! + 1, count: count, into: $0.baseAddress!) }
                }
                XCTAssertTrue(fast[count].isNaN, "\(format) \(count): wrote past the end")
                let reference = format.convertReference(Array(bytes.dropFirst()), count: count)
                XCTAssertEqual(fast.prefix(count).map(\.bitPattern), reference.map(\.bitPattern), "\(format), \(count) samples")
                XCTAssertTrue(reference.allSatisfy { $0 >= -1 && $0 <= 1 }, "\(format): outside [-1, 1]")
            }
        }
    }

    func testKnownValues() {
        func convert(_ format: ALSASampleFormat, _ bytes: [UInt8]) -> Float {
            var out: Float = .nan
            bytes.withUnsafeBytes { format.convert($0.baseAddress!, count: 1, into: &out) }
            return out
        }
        XCTAssertEqual(convert(.s16le, [0x00, 0x80]), -1)
        XCTAssertEqual(convert(.s16le, [0x00, 0x40]), 0.5)
        XCTAssertEqual(convert(.s32le, [0, 0, 0, 0x80]), -1)
        XCTAssertEqual(convert(.s32le, [0, 0, 0, 0xC0]), -0.5)
        XCTAssertEqual(convert(.s24le3, [0, 0, 0x80]), -1)
        XCTAssertEqual(convert(.s24le3, [0, 0, 0x40]), 0.5)
        // S24_LE: the top byte is padding, whatever the driver put there.
        XCTAssertEqual(convert(.s24le, [0, 0, 0x40, 0x00]), 0.5)
        XCTAssertEqual(convert(.s24le, [0, 0, 0x40, 0xFF]), 0.5)
        XCTAssertEqual(convert(.s24le, [0, 0, 0xC0, 0x00]), -0.5)
        XCTAssertEqual(convert(.float32le, [0, 0, 0xC0, 0x7F]), 0, "NaN")
        XCTAssertEqual(convert(.float32le, [0, 0, 0x00, 0x40]), 1, "2.0 clamped")
        XCTAssertEqual(convert(.float32le, [0, 0, 0x80, 0xBE]), -0.25)
    }

    func testNegotiationTakesTheFirstFormatTheDeviceOffers() {
        let order = ALSASampleFormat.allCases
        XCTAssertEqual(order, [.s16le, .s32le, .s24le, .s24le3, .float32le])
        XCTAssertEqual(ALSASampleFormat.negotiate(order) { _ in true }, .s16le)
        XCTAssertEqual(ALSASampleFormat.negotiate(order) { $0 == .s32le }, .s32le, "an S32_LE-only I2S microphone")
        XCTAssertEqual(ALSASampleFormat.negotiate(order) { $0 == .s24le3 || $0 == .float32le }, .s24le3, "a USB microphone")
        XCTAssertEqual(ALSASampleFormat.negotiate(order) { $0 == .float32le }, .float32le)
        XCTAssertEqual(ALSASampleFormat.negotiate(order) { $0 != .s16le && $0 != .s32le }, .s24le)
        XCTAssertNil(ALSASampleFormat.negotiate(order) { _ in false })
    }

    func withConfiguration(_ body: (URL) throws -> Void) throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let conf = """
        pcm.parla_in {
            type file
            slave.pcm { type null }
            file "\(dir.appendingPathComponent("unused.raw").path)"
            infile "\(dir.appendingPathComponent("in.raw").path)"
            format "raw"
        }
        pcm.parla_mulaw {
            type mulaw
            slave {
                pcm { type file slave.pcm { type null } file "\(dir.appendingPathComponent("unused.raw").path)" infile "\(dir.appendingPathComponent("in.raw").path)" format "raw" }
                format S16_LE
            }
        }
        """
        try conf.write(to: dir.appendingPathComponent("asound.conf"), atomically: true, encoding: .utf8)
        setenv("ALSA_CONFIG_PATH", dir.appendingPathComponent("asound.conf").path, 1)
        defer { unsetenv("ALSA_CONFIG_PATH") }
        try body(dir)
    }

    func testCapturesEveryFormatThroughTheFilePlugin() throws {
        try withConfiguration { dir in
            var rng = SeededGenerator(seed: 7)
            for format in ALSASampleFormat.allCases {
                // Stereo at 48 kHz, 1001 frames: the file plugin hands the raw file over in the negotiated format.
                let frames = 1_001, channels = 2
                var bytes = randomBytes(frames * channels * format.bytes, &rng)
                if format == .float32le {
                    for i in 0..<(frames * channels) {
                        let v = Float(Int(rng.next() % 20_001) - 10_000) / 10_000
                        withUnsafeBytes(of: v.bitPattern.littleEndian) { for j in 0..<4 { bytes[4 * i + j] = $0[j] } }
                    }
                }
                try Data(bytes).write(to: dir.appendingPathComponent("in.raw"))
                let capture = try ALSACapture(device: "parla_in", sampleRate: 48_000, channels: channels, formats: [format])
                XCTAssertEqual(capture.format, format)
                XCTAssertEqual(capture.sampleRate, 48_000)
                XCTAssertEqual(capture.channels, channels)
                var got = [Float]()
                var buffer = [Float](repeating: 0, count: 333 * channels)   // odd reads
                while got.count < frames * channels {
                    let n = min(333, frames - got.count / channels)
                    try buffer.withUnsafeMutableBufferPointer { b in
                        _ = try capture.read(into: UnsafeMutableBufferPointer(rebasing: b[0..<(n * channels)]))
                    }
                    got += buffer.prefix(n * channels)
                }
                XCTAssertEqual(got.map(\.bitPattern), format.convertReference(bytes, count: frames * channels).map(\.bitPattern), "\(format)")
                XCTAssertEqual(capture.framesRead, frames)
            }
        }
    }

    func testADeviceWithNoFormatParlaReadsFailsWithOneLine() throws {
        try withConfiguration { dir in
            try Data(count: 4000).write(to: dir.appendingPathComponent("in.raw"))
            XCTAssertThrowsError(try ALSACapture(device: "parla_mulaw", sampleRate: 16_000)) { error in
                let line = "\(error)"
                XCTAssertEqual(line, "ALSA device 'parla_mulaw' takes none of S16_LE, S32_LE, S24_LE, S24_3LE, FLOAT_LE (it offers MU_LAW); use a 'plughw:' or the 'default' device so ALSA converts")
                XCTAssertFalse(line.contains("\n"))
            }
        }
    }
}
