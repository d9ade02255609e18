import Foundation
import ParlaMedia
import ParlaTestSupport
import XCTest
@testable import ParlaIO

final class SinkTests: XCTestCase {
    /// A test pattern whose colour depends on the frame number, so frames differ.
    private func frame(_ n: Int, width: Int = 64, height: Int = 48) -> RGBAImage {
        var img = RGBAImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let p = (y * width + x) * 4
                img.pixels[p] = UInt8((x * 4 + n * 10) & 255)
                img.pixels[p + 1] = UInt8((y * 5) & 255)
                img.pixels[p + 2] = UInt8((n * 40) & 255)
            }
        }
        return img
    }

    func testYUVConversionOfPrimaryColoursMatchesBT601LimitedRange() {
        let cases: [((UInt8, UInt8, UInt8), (UInt8, UInt8, UInt8))] = [
            ((0, 0, 0), (16, 128, 128)), ((255, 255, 255), (235, 128, 128)),
            ((255, 0, 0), (82, 90, 240)), ((0, 255, 0), (144, 54, 34)), ((0, 0, 255), (41, 240, 110)),
        ]
        for (rgb, expected) in cases {
            let img = RGBAImage(width: 2, height: 2, fill: (rgb.0, rgb.1, rgb.2, 255))
            var out = [UInt8](repeating: 0, count: 6)
            YUV420.convert(img, into: &out)
            XCTAssertEqual(out[0], expected.0, "Y of \(rgb)")
            XCTAssertEqual(out[4], expected.1, "U of \(rgb)")
            XCTAssertEqual(out[5], expected.2, "V of \(rgb)")
        }
    }

    func testYUVOddSizesRoundChromaUp() {
        let img = RGBAImage(width: 5, height: 3, fill: (10, 200, 30, 255))
        let (l, c) = YUV420.planeSizes(width: 5, height: 3)
        XCTAssertEqual(l, 15)
        XCTAssertEqual(c, 6)
        var out = [UInt8](repeating: 0, count: l + 2 * c)
        YUV420.convert(img, into: &out)
        XCTAssertEqual(Set(out[l..<(l + c)]).count, 1, "a flat picture has flat chroma, edge blocks included")
    }

    func testY4MHasHeaderMarkAndOneFramePerWrite() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("clip.y4m")
        let sink = try Y4MSink(url: url, width: 64, height: 48, fps: 29.97)
        for n in 0..<5 { try sink.write(frame(n)) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path), "nothing at the destination before finish")
        try sink.finish()
        let data = try Data(contentsOf: url)
        let header = String(decoding: data.prefix(while: { $0 != 0x0A }), as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("YUV4MPEG2 W64 H48 F30000:1001 Ip A1:1 C420jpeg"), header)
        XCTAssertTrue(header.hasSuffix(" XPARLA=parla-synthetic"), header)
        let frameBytes = 6 + 64 * 48 * 3 / 2
        XCTAssertEqual(data.count, header.utf8.count + 1 + 5 * frameBytes)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        XCTAssertEqual(leftovers, ["clip.y4m"], "no temporary file left behind")
    }

    /// ffmpeg reads what Parla writes: the header stays within its line limit at the largest sizes and odd rates.
    func testFFmpegReadsTheY4M() throws {
        for (w, h, fps) in [(7680, 4320, 59.94), (3840, 2160, 23.976), (1920, 1080, 29.97), (64, 48, 30.0)] {
            let header = Y4MSink.header(width: w, height: h, fps: fps)
            XCTAssertLessThanOrEqual(header.utf8.count, Y4MSink.headerLimit, header)
        }
        guard let ffprobe = FFmpegMP4Sink.findExecutable("ffprobe") else { throw XCTSkip("ffmpeg is not installed") }
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("clip.y4m")
        let sink = try Y4MSink(url: url, width: 64, height: 48, fps: 29.97)
        for n in 0..<7 { try sink.write(frame(n)) }
        try sink.finish()
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: ffprobe)
        probe.arguments = ["-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames,width,height,r_frame_rate",
                           "-of", "default=noprint_wrappers=1", url.path]
        let pipe = Pipe()
        probe.standardOutput = pipe
        probe.standardError = pipe
        try probe.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        probe.waitUntilExit()
        XCTAssertEqual(probe.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("width=64") && text.contains("height=48"), text)
        XCTAssertTrue(text.contains("r_frame_rate=30000/1001"), text)
        XCTAssertTrue(text.contains("nb_read_frames=7"), text)
    }

    func testCancelLeavesNothingBehind() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sink = try Y4MSink(url: dir.appendingPathComponent("x.y4m"), width: 64, height: 48, fps: 30)
        try sink.write(frame(0))
        sink.cancel()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    func testMissingFolderIsOneLineError() {
        XCTAssertThrowsError(try Y4MSink(url: URL(fileURLWithPath: "/nonexistent/dir/x.y4m"), width: 64, height: 48,
                                         fps: 30)) { error in
            XCTAssertEqual("\(error)", "/nonexistent/dir/x.y4m: folder /nonexistent/dir does not exist")
        }
    }

    func testFFmpegSinkWritesPlayableMP4WithSyntheticMark() throws {
        guard FFmpegMP4Sink.findExecutable("ffmpeg") != nil, FFmpegMP4Sink.findExecutable("ffprobe") != nil else {
            throw XCTSkip("ffmpeg is not installed")
        }
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("clip.mp4")
        let sink = try FFmpegMP4Sink(url: url, width: 64, height: 48, fps: 25, audio: nil, comment: "parla-synthetic: t")
        for n in 0..<20 { try sink.write(frame(n)) }
        try sink.finish()
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: FFmpegMP4Sink.findExecutable("ffprobe")!)
        probe.arguments = ["-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                           "stream=nb_read_frames,width,height,pix_fmt,codec_name:format_tags=comment",
                           "-of", "default=noprint_wrappers=1", url.path]
        let pipe = Pipe()
        probe.standardOutput = pipe
        try probe.run()
        probe.waitUntilExit()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(text.contains("codec_name=h264"), text)
        XCTAssertTrue(text.contains("pix_fmt=yuv420p"), text)
        XCTAssertTrue(text.contains("nb_read_frames=20"), text)
        XCTAssertTrue(text.contains("TAG:comment=parla-synthetic: t"), text)
    }

    /// Decoded the way its tags say (BT.709, limited range), the MP4 shows the colours that were written.
    func testFFmpegSinkColoursMatchTheirTags() throws {
        guard let ffmpeg = FFmpegMP4Sink.findExecutable("ffmpeg") else { throw XCTSkip("ffmpeg is not installed") }
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("flat.mp4")
        let colours: [(UInt8, UInt8, UInt8)] = [(30, 200, 40), (220, 170, 140), (40, 60, 210), (128, 128, 128)]
        let sink = try FFmpegMP4Sink(url: url, width: 64, height: 48, fps: 25, audio: nil, comment: "parla-synthetic: t")
        for (r, g, b) in colours {
            let image = RGBAImage(width: 64, height: 48, fill: (r, g, b, 255))
            for _ in 0..<3 { try sink.write(image) }
        }
        try sink.finish()
        let decode = Process()
        decode.executableURL = URL(fileURLWithPath: ffmpeg)
        decode.arguments = ["-v", "error", "-i", url.path, "-vf", "scale=in_color_matrix=bt709:in_range=tv,format=rgb24",
                            "-f", "rawvideo", "-"]
        let pipe = Pipe()
        decode.standardOutput = pipe
        try decode.run()
        let rgb = [UInt8](pipe.fileHandleForReading.readDataToEndOfFile())
        decode.waitUntilExit()
        XCTAssertEqual(rgb.count, colours.count * 3 * 64 * 48 * 3)
        guard rgb.count == colours.count * 3 * 64 * 48 * 3 else { return }
        for (k, (r, g, b)) in colours.enumerated() {
            let centre = (k * 3 + 1) * 64 * 48 * 3 + (24 * 64 + 32) * 3
            for (got, want) in zip(rgb[centre..<(centre + 3)], [r, g, b]) {
                XCTAssertLessThanOrEqual(abs(Int(got) - Int(want)), 4, "colour \(k): \(Array(rgb[centre..<(centre + 3)])) for \([r, g, b])")
            }
        }
    }

    func testFFmpegSinkRejectsOddSizes() {
        XCTAssertThrowsError(try FFmpegMP4Sink(url: URL(fileURLWithPath: "/tmp/x.mp4"), width: 63, height: 48, fps: 25,
                                               audio: nil, comment: "m"))
    }

    func testFrameRateFractions() {
        XCTAssertEqual(FFmpegMP4Sink.rate(30), "30")
        XCTAssertEqual(FFmpegMP4Sink.rate(29.97), "30000/1001")
        XCTAssertEqual(FFmpegMP4Sink.rate(12.5), "25/2")
        XCTAssertEqual(FFmpegMP4Sink.rate(23.976), "24000/1001")
        XCTAssertTrue(FrameRate.fraction(25) == (25, 1))
        XCTAssertTrue(FrameRate.fraction(59.94) == (60000, 1001))
    }
}

final class PNGSequenceSinkTests: XCTestCase {
    func testFramesAppearOnlyWhenFinishedAndDecodeBack() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("frames")
        let sink = try PNGSequenceSink(directory: out, comment: "parla-synthetic: t")
        let a = RGBAImage(width: 17, height: 9, fill: (200, 10, 20, 255))
        let b = RGBAImage(width: 17, height: 9, fill: (1, 2, 3, 255))
        try sink.write(a)
        try sink.write(b)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        try sink.finish()
        let names = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        XCTAssertEqual(names, ["frame-000001.png", "frame-000002.png", "synthetic.txt"])
        XCTAssertEqual(try ImageCodec.decode(contentsOf: out.appendingPathComponent("frame-000002.png")), b)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["frames"])
    }
}
