import Foundation
import ParlaKernels
import ParlaModel
import XCTest

/// CPU time of the calling thread in milliseconds (less disturbed than wall time on a shared machine).
private func threadCPUMilliseconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) * 1e3 + Double(t.tv_nsec) * 1e-6
}

/// A benchmark, not a test: skipped unless PARLA_BENCH=1. Prints the median of 50 runs per converted model
/// (after 3 warm-up runs) and, with PARLA_BENCH_PROFILE=1, the slowest ops of face_landmark.
///   PARLA_BENCH=1 swift test -c release --scratch-path .build-models --filter ModelBenchmark
final class ModelBenchmark: XCTestCase {
    func testMedianRunTimes() throws {
        let environment = ProcessInfo.processInfo.environment
        try XCTSkipUnless(environment["PARLA_BENCH"] == "1", "benchmark: set PARLA_BENCH=1")
        let clock = ContinuousClock()
        for name in ["face_detection_short_range", "face_landmark", "iris_landmark"] {
            let model = try Model(contentsOf: ParityTests.modelsDirectory.appendingPathComponent("\(name).pmdl"))
            let executor = try Executor(model: model)
            var seed: UInt32 = 1
            let inputs = model.inputShapes.map { shape in
                Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in
                    seed = seed &* 1_664_525 &+ 1_013_904_223
                    return Float(seed >> 8) / Float(1 << 24)
                })
            }
            for _ in 0..<3 { _ = try executor.run(inputs) }
            var times: [Double] = []
            var cpu: [Double] = []
            for _ in 0..<50 {
                let start = threadCPUMilliseconds()
                let elapsed = try clock.measure { _ = try executor.run(inputs) }
                cpu.append(threadCPUMilliseconds() - start)
                times.append(Double(elapsed.components.attoseconds) * 1e-15 + Double(elapsed.components.seconds) * 1e3)
            }
            times.sort()
            cpu.sort()
            print(String(format: "bench %@: median %.2f ms wall (min %.2f, max %.2f), %.2f ms thread CPU, over 50 runs, arena %d KiB",
                         name, times[25], times[0], times[49], cpu[25], executor.activationArenaCount * 4 / 1024))
            if environment["PARLA_BENCH_PROFILE"] == "1" && name == "face_landmark" {
                var byType: [String: Double] = [:]
                for _ in 0..<10 {
                    for (op, seconds) in try executor.profile(inputs) { byType[op, default: 0] += seconds * 100 }
                }
                for (op, ms) in byType.sorted(by: { $0.value > $1.value }).prefix(15) {
                    print(String(format: "  %8.3f ms  %@", ms, op))
                }
            }
        }
    }
}
