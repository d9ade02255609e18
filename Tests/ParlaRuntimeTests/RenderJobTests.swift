import Foundation
import ParlaFace
import ParlaMedia
import ParlaMotion
import ParlaRender
import ParlaTestSupport
import XCTest
@testable import ParlaRuntime

/// End-to-end: the real portrait and real (synthesized) speech through the whole pipeline.
final class RenderJobTests: XCTestCase {
    static let portrait = Fixtures.url("grace_hopper.jpg")
    static let speech = Fixtures.url("motion/speech_en_16k.wav")

    /// The avatar is built once for the whole class (face analysis is the slow part).
    static let avatar: Result<Avatar, Error> = Result {
        let image = try PortraitPreparation.decode(portrait)
        let analysis = try PortraitPreparation.analyze(image, source: portrait)
        return try PortraitPreparation.avatar(from: image, analysis: analysis, source: portrait)
    }

    private func tmp() throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// Output position of a texture position for a square texture covering a `side`² frame.
    private func toOutput(_ p: SIMD3<Float>, textureSide: Int, side: Int) -> SIMD2<Float> {
        SIMD2(p.x, p.y) * Float(side) / Float(textureSide)
    }

    func testRestFrameIsThePortraitItself() throws {
        let avatar = try Self.avatar.get()
        let side = avatar.texture.width
        let decoder = try CPUFrameDecoder(avatar: avatar, width: side, height: side)
        var frame = RGBAImage(width: side, height: side)
        try decoder.decode(MotionFrame(time: 0), into: &frame)
        // Face region: the bounding box of the 468 landmarks.
        let face = avatar.vertices.prefix(FaceTopology.landmarkCount)
        let x0 = Int(face.map(\.x).min()!), x1 = Int(face.map(\.x).max()!)
        let y0 = Int(face.map(\.y).min()!), y1 = Int(face.map(\.y).max()!)
        var se = 0.0, n = 0.0
        for y in y0...y1 {
            for x in x0...x1 {
                for c in 0..<3 {
                    let i = (y * side + x) * 4 + c
                    let d = Double(frame.pixels[i]) - Double(avatar.texture.pixels[i])
                    se += d * d
                    n += 1
                }
            }
        }
        let psnr = se == 0 ? Double.infinity : 10 * log10(255 * 255 / (se / n))
        XCTAssertGreaterThanOrEqual(psnr, 35, "rest frame PSNR on the face region")
    }

    func testMP4HasOneFramePerDueTimeAndTheSpeechAsAudio() throws {
        guard let ffprobe = ProcessRunner.find("ffprobe"), ProcessRunner.find("ffmpeg") != nil else {
            throw XCTSkip("ffmpeg is not installed")
        }
        let out = try tmp().appendingPathComponent("clip.mp4")
        var request = RenderRequest(face: .portrait(Self.portrait), audio: Self.speech, output: out, format: .mp4)
        request.width = 256
        request.height = 256
        request.motion.fps = 25
        let summary = try RenderJob(request: request).run()
        let audio = try WAVFile.read(contentsOf: Self.speech)
        XCTAssertEqual(summary.frames, Int((audio.duration * 25).rounded(.up)))
        let probe = try ProcessRunner.run(ffprobe, ["-v", "error", "-count_frames", "-show_entries",
            "stream=codec_type,codec_name,width,height,pix_fmt,nb_read_frames,duration:format_tags=comment",
            "-of", "default=noprint_wrappers=1", out.path])
        XCTAssertTrue(probe.contains("codec_name=h264"), probe)
        XCTAssertTrue(probe.contains("codec_name=aac"), probe)
        XCTAssertTrue(probe.contains("width=256") && probe.contains("height=256"), probe)
        XCTAssertTrue(probe.contains("pix_fmt=yuv420p"), probe)
        XCTAssertTrue(probe.contains("nb_read_frames=\(summary.frames)"), probe)
        XCTAssertTrue(probe.contains("TAG:comment=parla-synthetic"), probe)
        let durations = probe.split(separator: "\n").filter { $0.hasPrefix("duration=") }
            .compactMap { Double($0.dropFirst("duration=".count)) }
        XCTAssertEqual(durations.count, 2, probe)
        for d in durations {
            XCTAssertEqual(d, audio.duration, accuracy: 1.0 / 25 + 0.03, "stream length vs audio \(audio.duration) s")
        }
    }

    func testMouthOpensWithTheSpeechEnergy() throws {
        let avatar = try Self.avatar.get()
        let side = 192
        let speech = try SpeechInput.load(Self.speech)
        let fps = 30.0
        var options = MotionOptions()
        options.fps = fps
        options.controls.still = true
        // Energy correlation is the acoustic driver's criterion; VisemeNet (the default) is checked against
        // phoneme timing in ParlaMotionTests (it closes the lips on loud voiced m/b, so r is lower, ≈ 0.42).
        options.mouthDriver = .acoustic
        let frames = MotionComposer(options: options).frames(for: speech.analysis)
        let decoder = try CPUFrameDecoder(avatar: avatar, width: side, height: side)
        var image = RGBAImage(width: side, height: side)
        // Mouth box in output pixels from the rest outer-lip contour.
        let lips = (FaceTopology.outerLipUpper + FaceTopology.outerLipLower).map {
            toOutput(avatar.vertices[$0], textureSide: avatar.texture.width, side: side)
        }
        let mx0 = Int(lips.map(\.x).min()!), mx1 = Int(lips.map(\.x).max()!.rounded(.up))
        let my0 = Int(lips.map(\.y).min()!), my1 = Int(lips.map(\.y).max()!.rounded(.up)) + 4
        func mouthLuma(_ img: RGBAImage) -> Double {
            var sum = 0.0
            for y in my0...my1 {
                for x in mx0...mx1 {
                    let p = (y * side + x) * 4
                    sum += 0.299 * Double(img.pixels[p]) + 0.587 * Double(img.pixels[p + 1]) + 0.114 * Double(img.pixels[p + 2])
                }
            }
            return sum / Double((my1 - my0 + 1) * (mx1 - mx0 + 1))
        }
        try decoder.decode(MotionFrame(time: 0), into: &image)
        let rest = mouthLuma(image)
        var darkening = [Double](), energy = [Double]()
        let hop = Int(Double(AudioBuffer.analysisRate) / fps)
        for frame in frames {
            try decoder.decode(frame, into: &image)
            darkening.append(rest - mouthLuma(image))
            let start = Int(frame.time * Double(AudioBuffer.analysisRate))
            let slice = speech.analysis.samples[min(start, speech.analysis.samples.count)..<min(start + hop, speech.analysis.samples.count)]
            energy.append(slice.isEmpty ? 0 : sqrt(slice.reduce(0) { $0 + Double($1 * $1) } / Double(slice.count)))
        }
        let r = Self.correlation(darkening, energy)
        XCTAssertGreaterThan(r, 0.5, "mouth darkening (opening) should follow speech energy")
        // Well inside silence (no sound within ±200 ms: the mouth may lead and release) the mouth is the rest mouth.
        let quiet = darkening.indices.filter { i in
            energy[max(0, i - 6)...min(energy.count - 1, i + 6)].allSatisfy { $0 < 1e-4 }
        }.map { abs(darkening[$0]) }
        XCTAssertFalse(quiet.isEmpty)
        XCTAssertLessThan(quiet.max()!, 0.5, "mouth must be still in silence")
    }

    func testBadInputsFailWithOneLineAndWriteNothing() throws {
        let dir = try tmp()
        let corruptWAV = dir.appendingPathComponent("bad.wav")
        try Data("RIFF\u{0}\u{0}\u{0}\u{0}WAVEjunk".utf8).write(to: corruptWAV)
        let out = dir.appendingPathComponent("out.y4m")
        let bad = RenderRequest(face: .portrait(Self.portrait), audio: corruptWAV, output: out, format: .y4m)
        XCTAssertThrowsError(try RenderJob(request: bad).run()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix(corruptWAV.path + ":"), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
        let noFace = dir.appendingPathComponent("flat.png")
        try ImageCodec.writePNG(RGBAImage(width: 300, height: 300, fill: (120, 130, 140, 255)), to: noFace)
        let faceless = RenderRequest(face: .portrait(noFace), audio: Self.speech, output: out, format: .y4m)
        XCTAssertThrowsError(try RenderJob(request: faceless).run()) { error in
            XCTAssertTrue("\(error)".hasPrefix(noFace.path + ": no face found"), "\(error)")
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(left, ["bad.wav", "flat.png"], "no output, no temporary files")
    }

    /// Sizes and rates no output can take are refused before any work, in one line naming the option.
    func testImpossibleVideoSizesAndRatesAreRefusedUpFront() throws {
        let out = try tmp().appendingPathComponent("out.mp4")
        let cases: [(width: Int, height: Int, fps: Double, format: OutputFormat, message: String)] = [
            (15, 64, 25, .y4m, "--size 15x64: each side must be 16…8192 pixels"),
            (64, 8193, 25, .png, "--size 64x8193: each side must be 16…8192 pixels"),
            (64, 64, 0.5, .y4m, "--fps 0.5: must be between 1 and 240"),
            (64, 64, 241, .null, "--fps 241: must be between 1 and 240"),
            (64, 64, .nan, .y4m, "--fps nan: must be between 1 and 240"),
            (65, 64, 25, .mp4, "--size 65x64: MP4 (yuv420p) needs even sides"),
        ]
        for c in cases {
            var render = RenderRequest(face: .portrait(Self.portrait), audio: Self.speech, output: out, format: c.format)
            render.width = c.width
            render.height = c.height
            render.motion.fps = c.fps
            XCTAssertThrowsError(try RenderJob(request: render)) { XCTAssertEqual("\($0)", c.message) }
            var say = SayRequest(text: "Hello.", output: out, format: c.format)
            say.width = c.width
            say.height = c.height
            say.motion.fps = c.fps
            XCTAssertThrowsError(try SayJob(request: say)) { XCTAssertEqual("\($0)", c.message) }
        }
        var odd = RenderRequest(face: .portrait(Self.portrait), audio: Self.speech, output: out, format: .y4m)
        odd.width = 65
        XCTAssertNoThrow(try RenderJob(request: odd), "Y4M takes odd sizes")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    /// A WAV cut short renders what is there, and says so in one line (the summary carries it to the CLI).
    func testACutShortWAVRendersWhatIsThereWithOneWarning() throws {
        let dir = try tmp()
        let whole = try Data(contentsOf: Self.speech)
        let cut = dir.appendingPathComponent("cut.wav")
        try whole.prefix(whole.count / 3).write(to: cut)
        XCTAssertNil(try SpeechInput.load(Self.speech).warning)
        let speech = try SpeechInput.load(cut)
        let warning = try XCTUnwrap(speech.warning)
        XCTAssertTrue(warning.hasPrefix(cut.path + ": the WAV is cut short"), warning)
        XCTAssertFalse(warning.contains("\n"), warning)
        XCTAssertEqual(speech.duration, Double(whole.count / 3 - 44) / 2 / 16000, accuracy: 0.01)
        var request = RenderRequest(face: .portrait(Self.portrait), audio: cut, output: dir.appendingPathComponent("x"),
                                    format: .null)
        request.width = 64
        request.height = 64
        XCTAssertEqual(try RenderJob(request: request).run().warnings, [warning])
    }

    static func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count)
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for (x, y) in zip(a, b) {
            sab += (x - ma) * (y - mb); saa += (x - ma) * (x - ma); sbb += (y - mb) * (y - mb)
        }
        return sab / sqrt(saa * sbb)
    }
}

/// Runs a command and returns its standard output.
enum ProcessRunner {
    static func find(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
