import ArgumentParser
import Foundation
import ParlaFace
import ParlaMedia
import ParlaMotion
import ParlaRender
import ParlaRenderGLES
import ParlaRuntime

/// `parla bench decode`: frame decoder speed per backend and output size, GLES split by pass.
struct BenchDecode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Frame decoder speed (ms/frame, fps) for the CPU (1 and N threads) and GLES backends.",
        discussion: """
            Builds the avatar from the bundled portrait (or --portrait), then decodes an animated loop (jaw,
            yaw ±15°, pitch ±10°, roll, blinks) at 512x512, 1280x720 and 1920x1080. Figures are wall-clock
            means after a warm-up. `cpu ms` is the CPU time the whole process spent per frame (all threads,
            llvmpipe's workers included): on a loaded machine it is the honest figure, wall time is not. GLES rows include
            reading the RGBA frame back; `gles` finds depth and owner in one packed raster pass, `gles 2-pass` in
            two (the fallback for frames whose depths do not fit the packed key); its split by pass is measured in a second run that ends every pass
            with glFinish (so the split adds up to a little more than the plain row); read-back is the copy of the RGBA frame out of GL.
            """
    )

    @Option(help: "Portrait to build the avatar from instead of the bundled one.")
    var portrait: String?

    @Option(help: "Frames per measurement.")
    var frames: Int = 120

    @Option(help: "Threads for the multi-threaded CPU row (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Comma-separated sizes (N or WxH).")
    var sizes: String = "512,1280x720,1920x1080"

    @Option(help: "Backends to measure: cpu, gles or both.")
    var backends: String = "cpu,gles"

    func validate() throws {
        if frames < 1 || frames > 100_000 { throw ValidationError("--frames must be 1…100000") }
        if threads < 1 || threads > 256 { throw ValidationError("--threads must be 1…256") }
        for s in sizes.split(separator: ",") { _ = try parseSize(String(s)) }
    }

    func run() throws {
        try runReportingErrors {
            let url = try portrait.map { URL(fileURLWithPath: $0) } ?? DemoContent.portrait
            let image = try PortraitPreparation.decode(url)
            let analysis = try PortraitPreparation.analyze(image, source: url)
            let avatar = try PortraitPreparation.avatar(from: image, analysis: analysis, source: url)
            let loop = Self.motionLoop(count: frames)
            let wanted = Set(backends.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            var context: GLESContext?
            if wanted.contains("gles") {
                do { context = try GLESContext() } catch { print("gles: not available (\(error))") }
            }
            print("parla bench decode: \(url.lastPathComponent), \(avatar.vertices.count) vertices, "
                  + "\(avatar.triangles.count) triangles, texture \(avatar.texture.width)², \(frames) frames")
            if let context { print("gles: \(context.version), \(context.renderer)") }
            print("backend        size       ms/frame     fps   cpu ms   passes (wall ms)")
            for text in sizes.split(separator: ",") {
                let (w, h) = try parseSize(String(text))
                var out = RGBAImage(width: w, height: h)
                if wanted.contains("cpu") {
                    for n in Set([1, threads]).sorted() {
                        let decoder = try CPUFrameDecoder(avatar: avatar, width: w, height: h, threads: n)
                        let (wall, cpu) = try Self.measure(loop) { try decoder.decode($0, into: &out) }
                        Self.row("cpu \(n) thread\(n == 1 ? "" : "s")", w, h, wall, cpu, "")
                    }
                }
                // GLES with the packed raster pass (the default), then with separate depth and owner passes.
                for merged in context == nil ? [] : [true, false] {
                    let decoder = try GLESFrameDecoder(avatar: avatar, width: w, height: h, context: context)
                    decoder.mergesRasterPasses = merged
                    let (wall, cpu) = try Self.measure(loop) { try decoder.decode($0, into: &out) }
                    decoder.timesPasses = true
                    decoder.passSeconds = [:]
                    _ = try Self.measure(loop) { try decoder.decode($0, into: &out) }
                    let split = GLESFrameDecoder.Pass.allCases.filter { decoder.passSeconds[$0] != nil }.map { pass in
                        String(format: "%@ %.2f", pass.rawValue, (decoder.passSeconds[pass] ?? 0) * 1000 / Double(loop.count))
                    }.joined(separator: ", ")
                    Self.row(merged ? "gles" : "gles 2-pass", w, h, wall, cpu, split)
                }
            }
        }
    }

    private static func row(_ name: String, _ w: Int, _ h: Int, _ wall: Double, _ cpu: Double, _ passes: String) {
        let size = "\(w)x\(h)"
        let cpuText = String(format: "%6.2f", cpu * 1000)
        print(name.padding(toLength: 14, withPad: " ", startingAt: 0) + " " + size.padding(toLength: 10, withPad: " ", startingAt: 0)
              + String(format: " %8.2f %7.1f   ", wall * 1000, 1 / wall) + cpuText + "   " + passes)
    }

    /// Mean wall and process-CPU seconds per frame over `loop`, after decoding its first 5 frames once.
    private static func measure(_ loop: [MotionFrame], _ body: (MotionFrame) throws -> Void) throws -> (Double, Double) {
        for frame in loop.prefix(5) { try body(frame) }
        let wall0 = DispatchTime.now().uptimeNanoseconds, cpu0 = processCPUSeconds()
        for frame in loop { try body(frame) }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - wall0) / 1e9
        return (wall / Double(loop.count), (processCPUSeconds() - cpu0) / Double(loop.count))
    }

    private static func processCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// A talking loop: the jaw opens and closes, the head turns (yaw ±15°, pitch ±10°, roll ±4°), blinks.
    static func motionLoop(count: Int) -> [MotionFrame] {
        (0..<count).map { n in
            let t = Float(n) / 30
            var f = MotionFrame(time: Double(t))
            f.blendshapes[.jawOpen] = 0.35 + 0.35 * sin(t * 9)
            f.blendshapes[.mouthFunnel] = 0.2 + 0.2 * sin(t * 3.1)
            let blink: Float = n % 90 < 5 ? 1 : 0
            f.blendshapes[.eyeBlinkLeft] = blink
            f.blendshapes[.eyeBlinkRight] = blink
            let degree = Float.pi / 180
            f.headYaw = 15 * degree * sin(t * 1.3)
            f.headPitch = 10 * degree * sin(t * 1.7)
            f.headRoll = 4 * degree * sin(t * 0.9)
            return f
        }
    }
}
