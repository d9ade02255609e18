import Foundation
@testable import ParlaKernels
import ParlaTestSupport
import XCTest

/// A benchmark, not a test: skipped unless PARLA_BENCH=1. Prints GOPS (2 ops per multiply-add) of the scalar
/// reference and the SIMD kernel for face_landmark-like int8 layer shapes, single thread, median thread CPU time of the runs.
///   PARLA_BENCH=1 swift test -c release -Xswiftc -enable-testing --scratch-path .build-kernels --filter QuantizedBenchmark
final class QuantizedBenchmark: XCTestCase {
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

    /// The conv GEMMs this CPU runs, A/B in one process on the models' stems and narrow 1×1 layers: per layer 5
    /// rounds alternating the paths, each the median of 15 runs; prints the median over rounds.
    private func convolutionGEMMPaths(rng: inout SeededGenerator) {
        let tiles: [(Int8KernelPath, QuantizedConv2D.Tile)] = [(.avx2, .avx2), (.avxVNNI, .avxVNNI), (.avx512VNNI, .avx512VNNI)]
        let available = tiles.filter { Int8KernelPath.isAvailable($0.0) }.map { $0.1 }
        guard available.count > 1 else { return }
        let convs: [(name: String, h: Int, w: Int, k: Int, s: Int, ci: Int, co: Int)] = [
            ("stem 3x3/2 192x192x3->16 (mesh)", 192, 192, 3, 2, 3, 16),
            ("stem 5x5/2 128x128x3->24 (detector)", 128, 128, 5, 2, 3, 24),
            ("stem 3x3/2 256x256x3->16 (segmenter)", 256, 256, 3, 2, 3, 16),
            ("stem 3x3/2 64x64x3->64 (iris)", 64, 64, 3, 2, 3, 64),
            ("conv 1x1 96x96x16->16", 96, 96, 1, 1, 16, 16),
            ("conv 1x1 64x64x24->24", 64, 64, 1, 1, 24, 24),
            ("conv 1x1 48x48x32->32", 48, 48, 1, 1, 32, 32),
            ("conv 1x1 16x16x32->64", 16, 16, 1, 1, 32, 64),
            ("conv 1x1 12x12x128->128", 12, 12, 1, 1, 128, 128),
            ("conv 2x2/2 16x16x64->64", 16, 16, 2, 2, 64, 64),
        ]
        for c in convs {
            let window = Window2D(inputHeight: c.h, inputWidth: c.w, kernelHeight: c.k, kernelWidth: c.k,
                                  strideY: c.s, strideX: c.s, padding: .same)!
            let input = randomInt8(c.h * c.w * c.ci, &rng)
            let weights = randomInt8(c.co * c.k * c.k * c.ci, &rng, range: -127...127)
            let requantizer = randomRequantizer(channels: c.co, typicalAccumulator: 5000, prelu: c.co != 24, activation: .none, rng: &rng)
            var output = [Int8](repeating: 0, count: window.outputHeight * window.outputWidth * c.co)
            var rounds = [[Double]](repeating: [], count: available.count)
            input.withUnsafeBufferPointer { x in
                weights.withUnsafeBufferPointer { w in
                    let packed = QuantizedConv2D.PackedWeights(weights: w, bias: nil, outputChannels: c.co, kernelHeight: c.k,
                                                               kernelWidth: c.k, inputChannels: c.ci, inputZeroPoint: -7)
                    var scratch = [Int16](repeating: 0, count: QuantizedConv2D.scratchCount(packed: packed))
                    output.withUnsafeMutableBufferPointer { y in
                        scratch.withUnsafeMutableBufferPointer { s in
                            for _ in 0..<5 {
                                for (i, tile) in available.enumerated() {
                                    rounds[i].append(medianSeconds(runs: 15) {
                                        QuantizedConv2D.fast(input: x, packed: packed, output: y, window: window,
                                                             requantizer: requantizer, scratch: s, rows: nil, tile: tile)
                                    })
                                }
                            }
                        }
                    }
                }
            }
            let figures = zip(available, rounds).map { tile, times in
                String(format: "%@ %.3f ms", "\(tile)", times.sorted()[times.count / 2] * 1e3)
            }
            print("bench int8 gemm \(c.name): " + figures.joined(separator: ", "))
        }
    }

    /// The AVX2 and AVX-512 depthwise / ADD kernels A/B in one process: 5 rounds alternating the paths, each the
    /// median of 15 runs; prints the median over rounds (nothing where the CPU lacks AVX-512).
    private func avx512AB(_ name: String, _ body: (Int8KernelPath) -> Void) {
        let paths: [Int8KernelPath] = [.avx2, .avx512VNNI]
        guard paths.allSatisfy(Int8KernelPath.isAvailable) else { return }
        var rounds = [[Double]](repeating: [], count: paths.count)
        for _ in 0..<5 {
            for (i, path) in paths.enumerated() { rounds[i].append(medianSeconds(runs: 15) { body(path) }) }
        }
        let ms = rounds.map { $0.sorted()[$0.count / 2] * 1e3 }
        print(String(format: "bench int8 %-34@ avx2 %7.3f ms  avx512 %7.3f ms  (%.2fx)", name, ms[0], ms[1], ms[1] / ms[0]))
    }

    func testInt8LayerThroughput() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["PARLA_BENCH"] == "1", "benchmark: set PARLA_BENCH=1")
        var rng = SeededGenerator(seed: 1)
        let convs: [(name: String, h: Int, k: Int, s: Int, ci: Int, co: Int)] = [
            ("conv 3x3/2 192x192x3->16 (stem)", 192, 3, 2, 3, 16),
            ("conv 1x1 96x96x16->32", 96, 1, 1, 16, 32),
            ("conv 1x1 48x48x32->64", 48, 1, 1, 32, 64),
            ("conv 1x1 12x12x128->128", 12, 1, 1, 128, 128),
            ("conv 3x3 24x24x64->64", 24, 3, 1, 64, 64),
        ]
        for c in convs {
            let window = Window2D(inputHeight: c.h, inputWidth: c.h, kernelHeight: c.k, kernelWidth: c.k,
                                  strideY: c.s, strideX: c.s, padding: .same)!
            let input = randomInt8(c.h * c.h * c.ci, &rng)
            let weights = randomInt8(c.co * c.k * c.k * c.ci, &rng, range: -127...127)
            let bias = [Int32](repeating: 100, count: c.co)
            let requantizer = randomRequantizer(channels: c.co, typicalAccumulator: 5000, prelu: true, activation: .none, rng: &rng)
            var output = [Int8](repeating: 0, count: window.outputHeight * window.outputWidth * c.co)
            let macs = Double(output.count * c.k * c.k * c.ci)
            input.withUnsafeBufferPointer { x in
                weights.withUnsafeBufferPointer { w in
                    bias.withUnsafeBufferPointer { b in
                        let packed = QuantizedConv2D.PackedWeights(weights: w, bias: b, outputChannels: c.co, kernelHeight: c.k,
                                                                   kernelWidth: c.k, inputChannels: c.ci, inputZeroPoint: 3)
                        var scratch = [Int16](repeating: 0, count: QuantizedConv2D.scratchCount(packed: packed))
                        output.withUnsafeMutableBufferPointer { y in
                            scratch.withUnsafeMutableBufferPointer { s in
                                let reference = medianSeconds(runs: 3) {
                                    QuantizedConv2D.reference(input: x, inputZeroPoint: 3, weights: w, bias: b, output: y, window: window,
                                                              inputChannels: c.ci, outputChannels: c.co, requantizer: requantizer)
                                }
                                let fast = medianSeconds(runs: 21) {
                                    QuantizedConv2D.fast(input: x, packed: packed, output: y, window: window,
                                                         requantizer: requantizer, scratch: s)
                                }
                                report(c.name, macs: macs, reference: reference, fast: fast)
                            }
                        }
                    }
                }
            }
        }
        convolutionGEMMPaths(rng: &rng)
        let depthwise: [(name: String, h: Int, k: Int, s: Int, c: Int)] = [
            ("depthwise 3x3 96x96x16", 96, 3, 1, 16), ("depthwise 3x3 64x64x24", 64, 3, 1, 24),
            ("depthwise 3x3 48x48x64", 48, 3, 1, 64),
            ("depthwise 3x3/2 48x48x64", 48, 3, 2, 64), ("depthwise 5x5 24x24x128", 24, 5, 1, 128),
        ]
        for d in depthwise {
            let window = Window2D(inputHeight: d.h, inputWidth: d.h, kernelHeight: d.k, kernelWidth: d.k,
                                  strideY: d.s, strideX: d.s, padding: .same)!
            let input = randomInt8(d.h * d.h * d.c, &rng)
            let weights = randomInt8(d.k * d.k * d.c, &rng, range: -127...127)
            let requantizer = randomRequantizer(channels: d.c, typicalAccumulator: 5000, prelu: false, activation: .relu, rng: &rng)
            var output = [Int8](repeating: 0, count: window.outputHeight * window.outputWidth * d.c)
            let macs = Double(output.count * d.k * d.k)
            input.withUnsafeBufferPointer { x in
                weights.withUnsafeBufferPointer { w in
                    let packed = QuantizedDepthwiseConv2D.PackedWeights(weights: w, bias: nil, channels: d.c, kernelHeight: d.k,
                                                                        kernelWidth: d.k)
                    output.withUnsafeMutableBufferPointer { y in
                        let reference = medianSeconds(runs: 3) {
                            QuantizedDepthwiseConv2D.reference(input: x, inputZeroPoint: -5, weights: w, bias: nil, output: y,
                                                               window: window, channels: d.c, requantizer: requantizer)
                        }
                        let fast = medianSeconds(runs: 21) {
                            QuantizedDepthwiseConv2D.fast(input: x, inputZeroPoint: -5, packed: packed, output: y, window: window,
                                                          requantizer: requantizer)
                        }
                        report(d.name, macs: macs, reference: reference, fast: fast)
                        avx512AB(d.name) { path in
                            QuantizedDepthwiseConv2D.fast(input: x, inputZeroPoint: -5, packed: packed, output: y, window: window,
                                                          requantizer: requantizer, path: path)
                        }
                    }
                }
            }
        }
        // Elementwise: ADD (face_landmark 96×96×16 with PReLU, segmenter 128×128×16 plain, 48×48×64 both), values per second.
        for (name, count, channels, prelu) in [("add 48x48x64", 48 * 48 * 64, 64, false), ("add+prelu 48x48x64", 48 * 48 * 64, 64, true),
                                               ("add 128x128x16", 128 * 128 * 16, 16, false),
                                               ("add+prelu 96x96x16", 96 * 96 * 16, 16, true)] {
            let a = randomInt8(count, &rng), b = randomInt8(count, &rng)
            let slopes: [Float]? = prelu ? (0..<channels).map { Float($0 % 7) * 0.05 - 0.1 } : nil
            let parameters = QuantizedAdd.Parameters(input1: .init(scale: 0.05, zeroPoint: 3), input2: .init(scale: 0.07, zeroPoint: -9),
                                                     output: .init(scale: 0.1, zeroPoint: 1), preluSlopes: slopes)
            var sum = [Int8](repeating: 0, count: count)
            a.withUnsafeBufferPointer { x in
                b.withUnsafeBufferPointer { y in
                    sum.withUnsafeMutableBufferPointer { z in
                        let reference = medianSeconds(runs: 5) { QuantizedAdd.reference(x, y, output: z, parameters: parameters) }
                        let fast = medianSeconds(runs: 41) { QuantizedAdd.fast(x, y, output: z, parameters: parameters) }
                        print(String(format: "bench int8 %-34@ reference %7.3f ms  fast %7.3f ms  (%.0f Mvalues/s)",
                                     name, reference * 1e3, fast * 1e3, Double(count) / fast / 1e6))
                        avx512AB(name + " arithmetic") { path in QuantizedAdd.arithmetic(x, y, output: z, parameters: parameters, path: path) }
                        if !prelu {  // the lookup table against the vector arithmetic it replaces
                            let arithmetic = medianSeconds(runs: 41) { QuantizedAdd.arithmetic(x, y, output: z, parameters: parameters, path: .best) }
                            print(String(format: "bench int8 %-34@ arithmetic %7.3f ms  (%.0f Mvalues/s)",
                                         name, arithmetic * 1e3, Double(count) / arithmetic / 1e6))
                        }
                    }
                }
            }
        }
    }

    private func report(_ name: String, macs: Double, reference: Double, fast: Double) {
        print(String(format: "bench int8 %-34@ reference %7.3f ms %6.2f GOPS   fast %7.3f ms %6.2f GOPS  (%.1fx)",
                     name, reference * 1e3, 2 * macs / reference / 1e9, fast * 1e3, 2 * macs / fast / 1e9, reference / fast))
    }
}
