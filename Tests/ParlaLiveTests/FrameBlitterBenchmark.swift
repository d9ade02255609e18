import Foundation
import ParlaMedia
import ParlaTestSupport
import XCTest
@testable import ParlaIO

/// A benchmark, not a test: skipped unless PARLA_BENCH=1. Prints the time of the SIMD blit and its scalar reference
/// for `parla bench`'s present stage (a 512x512 RGBA frame, half partly transparent, then opaque, letterboxed into a 1920x1080
/// XRGB8888 buffer) and the ratio, median thread CPU time of the runs.
///   PARLA_BENCH=1 swift test -c release -Xswiftc -enable-testing --scratch-path .build-blit --filter FrameBlitterBenchmark
final class FrameBlitterBenchmark: XCTestCase {
    /// Median thread CPU time of `runs` calls after one warm-up (CPU time: the machine is shared).
    private func medianSeconds(runs: Int, _ body: () -> Void) -> Double {
        func now() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
        }
        body()
        var times: [Double] = []
        for _ in 0..<runs {
            let start = now()
            body()
            times.append(now() - start)
        }
        return times.sorted()[runs / 2]
    }

    func testLetterboxBlitSpeed() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["PARLA_BENCH"] == "1", "benchmark: set PARLA_BENCH=1")
        var rng = SeededGenerator(seed: 7)
        var img = RGBAImage(width: 512, height: 512)
        for i in img.pixels.indices { img.pixels[i] = UInt8.random(in: 0...255, using: &rng) }
        for i in stride(from: 3, to: img.pixels.count, by: 8) { img.pixels[i] = 255 }
        let (w, h) = (1920, 1080)
        let screen = UnsafeMutableRawPointer.allocate(byteCount: w * h * 4, alignment: 64)
        defer { screen.deallocate() }
        for opaque in [false, true] {
            // Opaque frames skip the blend eight pixels at a time; half-transparent ones do not.
            if opaque { for i in stride(from: 3, to: img.pixels.count, by: 4) { img.pixels[i] = 255 } }
            for rotation in [Rotation.degrees0, .degrees90] {
                let layout = try FrameLayout(sourceWidth: 512, sourceHeight: 512, targetWidth: w, targetHeight: h,
                                             rotation: rotation, fit: .contain)
                let blitter = FrameBlitter(layout: layout, background: RGBColor(red: 0, green: 0, blue: 0))
                let fast = medianSeconds(runs: 21) { blitter.blit(img, into: screen, pitch: w * 4) }
                let reference = medianSeconds(runs: 3) { blitter.blitReference(img, into: screen, pitch: w * 4) }
                print(String(format: "blit 512x512 -> 1920x1080 contain, rotation %@, %@: SIMD %.2f ms, scalar reference %.1f ms, %.0fx",
                             "\(rotation)", opaque ? "opaque" : "half the pixels partly transparent", fast * 1000, reference * 1000, reference / fast))
            }
        }
    }
}
