import ArgumentParser
import Foundation
import ParlaFace
import ParlaKernels
import ParlaModel

/// `parla bench models`: time each face model through the executor, fp32 and int8, and optionally per op.
struct BenchModels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Time the face models and the person segmenter (median and p90 ms per run) in int8 and fp32; --profile adds per-op times.",
        discussion: """
            Each model runs on fixed pseudo-random pixels (or on <inputs>/<model>.u8, raw NHWC RGB, as
            Tools/bench-models writes them) after 5 warm-up runs. Tools/bench-models runs this beside TFLite.
            """
    )

    @Option(help: "Timed runs per model and precision.")
    var runs: Int = 100

    @Option(help: "Threads each convolution is split over.")
    var threads: Int = 1

    @Option(help: "int8, fp32 or both.")
    var precision: String = "both"

    @Option(help: "Directory with <model>.u8 input pixels (default: seeded pseudo-random pixels).")
    var inputs: String?

    @Option(help: "Directory of the .pmdl files (default: the bundled models).")
    var modelsDir: String?

    @Flag(help: "Print each op's median time (ms) for every model.")
    var profile = false

    @Flag(help: "Print the figures as JSON.")
    var json = false

    struct Row: Encodable {
        var model: String
        var precision: String
        var threads: Int
        var runs: Int
        var medianMs: Double
        var p90Ms: Double
        /// Process CPU time per run (all threads): on a loaded machine wall time also counts the time the
        /// scheduler gave to other processes.
        var cpuMedianMs: Double
        var cpuP90Ms: Double
        var arenaBytes: Int
        var ops: [Op]?
    }

    struct Op: Encodable {
        var index: Int
        var op: String
        var medianMs: Double
    }

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be in 1...64") }
        guard ["both", "int8", "fp32"].contains(precision) else { throw ValidationError("--precision must be int8, fp32 or both") }
    }

    func run() throws {
        try runReportingErrors {
            let directory = try modelsDir.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? FaceModels.defaultDirectory()
            let precisions: [ModelPrecision] = precision == "both" ? [.int8, .fp32] : [ModelPrecision(rawValue: precision)!]
            var rows: [Row] = []
            for name in [FaceModels.detectorName, FaceModels.meshName, FaceModels.irisName, PersonSegmenter.modelName] {
                for p in precisions {
                    let url = directory.appendingPathComponent(p.fileName(name))
                    let model = try Model(contentsOf: url)
                    let executor = try Executor(model: model, threads: threads)
                    let input = try pixels(for: model, name: name)
                    for _ in 0..<5 { _ = try executor.run([input]) }
                    let clock = ContinuousClock()
                    var times: [Double] = [], cpuTimes: [Double] = []
                    for _ in 0..<runs {
                        let cpuStart = processCPUMilliseconds()
                        let elapsed = clock.measure { _ = try? executor.run([input]) }
                        cpuTimes.append(processCPUMilliseconds() - cpuStart)
                        times.append(milliseconds(elapsed))
                    }
                    var ops: [Op]?
                    if profile {
                        var perOp: [[Double]] = []
                        var names: [String] = []
                        for _ in 0..<max(5, min(runs, 30)) {
                            let profiled = try executor.profile([input])
                            names = profiled.map(\.op)
                            if perOp.isEmpty { perOp = Array(repeating: [], count: profiled.count) }
                            for (k, entry) in profiled.enumerated() { perOp[k].append(entry.seconds * 1000) }
                        }
                        ops = names.enumerated().map { Op(index: $0.offset, op: $0.element, medianMs: median(perOp[$0.offset])) }
                    }
                    rows.append(Row(model: name, precision: p.rawValue, threads: threads, runs: runs,
                                    medianMs: median(times), p90Ms: percentile(times, 0.9),
                                    cpuMedianMs: median(cpuTimes), cpuP90Ms: percentile(cpuTimes, 0.9),
                                    arenaBytes: executor.activationArenaBytes, ops: ops))
                }
            }
            if json {
                try printJSON(rows)
                return
            }
            print("model                        precision  threads  median ms  p90 ms  CPU median ms  CPU p90 ms  arena KB")
            for r in rows {
                print(String(format: "%-28@ %-9@  %7d  %9.3f  %6.3f  %13.3f  %10.3f  %8d", r.model as NSString,
                             r.precision as NSString, r.threads, r.medianMs, r.p90Ms, r.cpuMedianMs, r.cpuP90Ms,
                             r.arenaBytes / 1024))
            }
            for r in rows {
                guard let ops = r.ops else { continue }
                let total = ops.reduce(0) { $0 + $1.medianMs }
                print("\n\(r.model) \(r.precision): \(ops.count) ops, sum of medians \(String(format: "%.3f", total)) ms")
                var byKind: [String: Double] = [:]
                for op in ops { byKind[kind(of: op.op), default: 0] += op.medianMs }
                for (kind, ms) in byKind.sorted(by: { $0.value > $1.value }) {
                    print(String(format: "  %-28@ %7.3f ms  %5.1f %%", kind as NSString, ms, 100 * ms / max(total, 1e-9)))
                }
                print("  slowest ops:")
                for op in ops.sorted(by: { $0.medianMs > $1.medianMs }).prefix(12) {
                    print(String(format: "  #%-3d %-44@ %7.3f ms", op.index, op.op as NSString, op.medianMs))
                }
            }
        }
    }

    private func pixels(for model: Model, name: String) throws -> Tensor {
        let shape = model.inputShapes[0]
        let count = shape.reduce(1, *)
        var bytes: [UInt8]
        if let inputs {
            let url = URL(fileURLWithPath: inputs).appendingPathComponent("\(name).u8")
            guard let data = try? Data(contentsOf: url), data.count == count else {
                throw ValidationError("\(url.path): expected \(count) bytes of \(shape) pixels")
            }
            bytes = [UInt8](data)
        } else {
            var state: UInt32 = 12345
            bytes = (0..<count).map { _ in state = state &* 1_664_525 &+ 1_013_904_223; return UInt8(state >> 24) }
        }
        let mean = Float(model.metadata["input.mean"] ?? "0") ?? 0
        let std = Float(model.metadata["input.std"] ?? "1") ?? 1
        return Tensor(shape: shape, data: bytes.map { (Float($0) - mean) / std })
    }
}

/// An op's kind for grouping: its description without channel counts ("int8 conv2d 1x1/1").
private func kind(of op: String) -> String {
    op.split(separator: " ").filter { !$0.contains("->") && Int($0) == nil }.joined(separator: " ")
}

private func milliseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) * 1e-15
}

/// CPU time of this process (all threads), ms.
private func processCPUMilliseconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) * 1000 + Double(t.tv_nsec) * 1e-6
}

private func median(_ values: [Double]) -> Double { percentile(values, 0.5) }

private func percentile(_ values: [Double], _ q: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))]
}
