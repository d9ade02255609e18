import Foundation
import ParlaKernels
import ParlaMedia
import ParlaModel

/// The learned audio → viseme network: 80 log-mel bands per 10 ms (``VisemeFrontEnd``) → a stack of causal
/// dilated 1-D convolutions (ReLU between) → softmax over the 16 ``Viseme`` classes. The look-ahead is fixed
/// by the layers (``lookAheadFrames``; 4 frames = 40 ms for the bundled model, 52.5 ms of audio counting the
/// analysis window's second half). Trained and exported by Tools/train-visemenet, activations calibrated by
/// Tools/quantize-visemenet; see docs/motion.md.
///
/// Two precisions from one file (``Precision``): **int8** (default) quantizes the normalised input, runs every layer
/// on int8 activations with integer-only requantization (``QuantizedCausalConv1D`` on ParlaKernels' GEMM) and
/// dequantizes the int8 logits for the softmax; **fp32** expands the int8 weights to fp32 and computes in fp32
/// (``CausalConv1D``), the float model the activations were calibrated against.
///
/// File format (`.vnet`, little-endian): `"VNET"`, u32 version 2, u32 JSON length, u32 CRC-32 of every byte after
/// these 16, JSON metadata (layers: in/out/kernel/dilation/future; provenance, calibration), then per layer int8
/// weights `[out][tap][in]`, f32 weight scale per output channel, f32 bias, i32 bias (at scale input scale × weight
/// scale), f32 output scale, i32 output zero point; then f32 mean[80] and std[80] of the input normalisation, f32
/// input scale and i32 input zero point.
public struct VisemeNet: Sendable {
    /// Which arithmetic runs the layers.
    public enum Precision: String, Sendable, CaseIterable {
        /// Int8 activations and weights, integer-only requantization (the default).
        case int8
        /// Fp32 activations, weights expanded from int8 (the float reference).
        case fp32
    }

    /// The file format version this build reads.
    public static let formatVersion = 2
    /// The layers in fp32 (weights expanded from int8).
    public let layers: [CausalConv1D]
    /// The same layers in int8, with their activation quantization.
    public let quantizedLayers: [QuantizedCausalConv1D]
    /// Quantization of the normalised input (the first layer's input).
    public var inputQuantization: QuantizationParameters { quantizedLayers[0].input }
    /// Per-band input mean and standard deviation.
    public let mean: [Float], std: [Float]
    /// The metadata JSON as stored (provenance, training figures).
    public let metadataJSON: String

    /// Frames of look-ahead: output frame t needs input frames up to t + lookAheadFrames.
    public var lookAheadFrames: Int { layers.reduce(0) { $0 + $1.ahead } }
    /// Weights and biases.
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.weights.count + $1.bias.count } }
    /// Input bands.
    public var bandCount: Int { layers.first?.inputs ?? 0 }

    /// Why a model file was refused.
    public struct FormatError: Error, CustomStringConvertible, Sendable {
        /// One line.
        public let description: String
    }

    /// Parses a `.vnet` file's bytes.
    public init(data: Data) throws {
        let bytes = [UInt8](data)
        func fail(_ why: String) -> FormatError { FormatError(description: "VisemeNet model: \(why)") }
        func u32(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 | Int(bytes[o + 2]) << 16 | Int(bytes[o + 3]) << 24 }
        guard bytes.count >= 16, bytes[0..<4].elementsEqual("VNET".utf8) else { throw fail("not a .vnet file") }
        guard u32(4) == Self.formatVersion else {
            throw fail("version \(u32(4)) is not supported (expected \(Self.formatVersion); Tools/quantize-visemenet converts a version 1 file)")
        }
        let jsonLength = u32(8)
        guard 16 + jsonLength <= bytes.count else { throw fail("file is truncated") }
        let crc = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[16...])) }
        guard crc == UInt32(u32(12)) else { throw fail("checksum mismatch (the file is damaged or was modified)") }
        // Foundation's JSON parsers stop the process on invalid UTF-8 in some versions (Swift 6.0): check first.
        guard isValidUTF8(bytes[16..<(16 + jsonLength)]) else { throw fail("metadata is not UTF-8") }
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes[16..<(16 + jsonLength)])) as? [String: Any],
              let specs = json["layers"] as? [[String: Any]], !specs.isEmpty else { throw fail("metadata is unreadable") }
        metadataJSON = String(decoding: bytes[16..<(16 + jsonLength)], as: UTF8.self)
        var offset = 16 + jsonLength
        func words(_ count: Int) throws -> [UInt32] {
            guard offset + 4 * count <= bytes.count else { throw fail("file is truncated") }
            let values = (0..<count).map { UInt32(u32(offset + 4 * $0)) }
            offset += 4 * count
            return values
        }
        func floats(_ count: Int) throws -> [Float] { try words(count).map { Float(bitPattern: $0) } }
        func int32s(_ count: Int) throws -> [Int32] { try words(count).map { Int32(bitPattern: $0) } }
        func quantization(_ what: String) throws -> QuantizationParameters {
            let scale = try floats(1)[0], zeroPoint = try int32s(1)[0]
            guard scale.isFinite, scale > 0, (-128...127).contains(zeroPoint) else {
                throw fail("\(what) quantization (scale \(scale), zero point \(zeroPoint)) is invalid")
            }
            return QuantizationParameters(scale: scale, zeroPoint: zeroPoint)
        }
        struct Stored { let n, m, k, d, f: Int; let q: [Int8]; let scale, bias: [Float]; let qbias: [Int32]; let output: QuantizationParameters }
        var stored = [Stored]()
        var previous = -1
        for (index, spec) in specs.enumerated() {
            guard let n = spec["in"] as? Int, let m = spec["out"] as? Int, let k = spec["kernel"] as? Int,
                  let d = spec["dilation"] as? Int, let f = spec["future"] as? Int,
                  n > 0, m > 0, k > 0, d > 0, d < 1 << 12, f >= 0, f < k, n * m * k < 1 << 24,
                  previous < 0 || previous == n else {
                throw fail("layer \(index) has an invalid shape")
            }
            previous = m
            guard offset + n * m * k <= bytes.count else { throw fail("file is truncated") }
            let q = bytes[offset..<(offset + n * m * k)].map { Int8(bitPattern: $0) }
            offset += n * m * k
            let scale = try floats(m), bias = try floats(m), qbias = try int32s(m)
            let output = try quantization("layer \(index) output")
            stored.append(Stored(n: n, m: m, k: k, d: d, f: f, q: q, scale: scale, bias: bias, qbias: qbias, output: output))
        }
        let bands = stored[0].n
        mean = try floats(bands)
        std = try floats(bands)
        var input = try quantization("input")
        guard offset == bytes.count else { throw fail("\(bytes.count - offset) unexpected bytes at the end") }
        guard std.allSatisfy({ $0 > 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else {
            throw fail("input normalisation is not finite and positive")
        }
        guard stored.last!.m == VisemeTrack.classCount else {
            throw fail("the last layer has \(stored.last!.m) outputs, expected \(VisemeTrack.classCount)")
        }
        var layers = [CausalConv1D](), quantized = [QuantizedCausalConv1D]()
        for (index, s) in stored.enumerated() {
            guard s.scale.allSatisfy({ $0.isFinite && $0 > 0 }), s.bias.allSatisfy(\.isFinite) else {
                throw fail("layer \(index) has non-finite or non-positive weight scales or biases")
            }
            // Stored [out][tap][in]; the fp32 runner wants [tap][in][out].
            var w = [Float](repeating: 0, count: s.n * s.m * s.k)
            for o in 0..<s.m {
                for tap in 0..<s.k {
                    for i in 0..<s.n { w[(tap * s.n + i) * s.m + o] = Float(s.q[(o * s.k + tap) * s.n + i]) * s.scale[o] }
                }
            }
            let relu = index < stored.count - 1
            guard let layer = CausalConv1D(inputs: s.n, outputs: s.m, kernel: s.k, dilation: s.d, future: s.f, weights: w,
                                           bias: s.bias, relu: relu) else {
                throw fail("layer \(index) has an invalid shape")
            }
            guard let qlayer = QuantizedCausalConv1D(inputs: s.n, outputs: s.m, kernel: s.k, dilation: s.d, future: s.f,
                                                     weights: s.q, weightScales: s.scale, bias: s.qbias, input: input,
                                                     output: s.output, relu: relu) else {
                throw fail("layer \(index) has int8 weights or scales the kernels cannot run (weight −128 or a scale out of range)")
            }
            layers.append(layer)
            quantized.append(qlayer)
            input = s.output
        }
        self.layers = layers
        quantizedLayers = quantized
    }

    /// Reads a `.vnet` file.
    public init(contentsOf url: URL) throws {
        guard let data = try? Data(contentsOf: url) else {
            throw FormatError(description: "\(url.path): cannot read the VisemeNet model")
        }
        try self.init(data: data)
    }

    /// The trained model that ships with Parla (`Visemes/Models/visemenet.vnet`), loaded once.
    public static func bundled() throws -> VisemeNet { try bundledResult.get() }

    private static let bundledResult: Result<VisemeNet, FormatError> = {
        guard let url = Bundle.module.url(forResource: "visemenet", withExtension: "vnet", subdirectory: "Models") else {
            return .failure(FormatError(description: "VisemeNet model: visemenet.vnet is missing from the ParlaMotion bundle"))
        }
        do { return .success(try VisemeNet(contentsOf: url)) } catch let e as FormatError { return .failure(e) } catch {
            return .failure(FormatError(description: "VisemeNet model: \(error)"))
        }
    }()

    /// Posteriors for whole log-mel frames (batch). Same numbers as a ``Stream`` of the same precision fed the same
    /// frames.
    public func posteriors(logMel: [Float], precision: Precision = .int8) -> VisemeTrack {
        var stream = makeStream(precision: precision)
        var out = [Float]()
        stream.push(logMel: logMel, into: &out)
        stream.finish(into: &out)
        return VisemeTrack(posteriors: out) ?? VisemeTrack(frameCount: 0)
    }

    /// The int8 path's logits before dequantization (16 int8 values per frame, batch): the integer result that is
    /// the same bytes on every CPU (the posteriors are their softmax).
    public func int8Logits(logMel: [Float]) -> [Int8] {
        var stream = makeStream(precision: .int8)
        stream.int8Logits = []
        var out = [Float]()
        stream.push(logMel: logMel, into: &out)
        stream.finish(into: &out)
        return stream.int8Logits ?? []
    }

    /// Posteriors for 16 kHz audio (other rates are resampled first): one frame per 10 ms at k·10 ms.
    public func track(for audio: AudioBuffer, precision: Precision = .int8) -> VisemeTrack {
        let speech = audio.sampleRate == AudioBuffer.analysisRate ? audio : Resampler.resample(audio, to: AudioBuffer.analysisRate)
        return posteriors(logMel: VisemeFrontEnd().analyse(speech.samples).logMel, precision: precision)
    }

    /// A streaming runner with empty history.
    public func makeStream(precision: Precision = .int8) -> Stream { Stream(net: self, precision: precision) }

    /// Frame-by-frame inference: push log-mel frames as they arrive; the posteriors of frame t come out once
    /// frame t + ``lookAheadFrames`` was pushed. ``finish(into:)`` flushes the rest (as if zeros followed, like
    /// the batch form). Output equals ``posteriors(logMel:precision:)`` exactly.
    public struct Stream: Sendable {
        let net: VisemeNet
        /// The arithmetic this stream runs.
        public let precision: Precision
        /// Per layer: input rows held, starting at frame `origin[l]` (negative rows are the zero history); fp32 rows
        /// in `buffers`, int8 rows in `quantizedBuffers` (the zero history is the layer's input zero point).
        private var buffers: [[Float]]
        private var quantizedBuffers: [[Int8]]
        private var origin: [Int]
        private var received: [Int]
        private var produced: [Int]
        private var gemmScratch: [Int16]
        /// When not nil, the int8 path appends the last layer's int8 rows here.
        var int8Logits: [Int8]?

        init(net: VisemeNet, precision: Precision) {
            self.net = net
            self.precision = precision
            if precision == .int8 {
                buffers = net.layers.map { _ in [] }
                quantizedBuffers = net.quantizedLayers.map {
                    [Int8](repeating: Int8($0.input.zeroPoint), count: $0.past * $0.inputs)
                }
                gemmScratch = [Int16](repeating: 0, count: net.quantizedLayers.map { $0.scratchCount }.max() ?? 0)
            } else {
                buffers = net.layers.map { [Float](repeating: 0, count: $0.past * $0.inputs) }
                quantizedBuffers = net.layers.map { _ in [] }
                gemmScratch = []
            }
            origin = net.layers.map { -$0.past }
            received = [Int](repeating: 0, count: net.layers.count)
            produced = received
        }

        /// Frames of posteriors produced so far.
        public var framesOut: Int { produced.last ?? 0 }

        /// Pushes whole log-mel frames (``VisemeNet/bandCount`` values each) and appends every completed row of
        /// 16 posteriors to `output`.
        public mutating func push(logMel: [Float], into output: inout [Float]) {
            let bands = net.bandCount
            let frames = logMel.count / bands
            guard frames > 0 else { return }
            var normalised = [Float](repeating: 0, count: frames * bands)
            for t in 0..<frames {
                for b in 0..<bands {
                    let v = logMel[t * bands + b]
                    normalised[t * bands + b] = v.isFinite ? (v - net.mean[b]) / net.std[b] : 0
                }
            }
            if precision == .int8 {
                var q = [Int8](repeating: 0, count: normalised.count)
                normalised.withUnsafeBufferPointer { x in
                    q.withUnsafeMutableBufferPointer { QuantizedConversion.quantizeFast(x, output: $0, parameters: net.inputQuantization) }
                }
                quantizedBuffers[0].append(contentsOf: q)
            } else {
                buffers[0].append(contentsOf: normalised)
            }
            received[0] += frames
            run(layer: 0, upTo: received[0] - net.layers[0].ahead, into: &output)
        }

        /// Flushes: every layer sees zeros after the last frame, as in the batch form.
        public mutating func finish(into output: inout [Float]) {
            for l in net.layers.indices {
                let layer = net.layers[l]
                let missing = received[l] + layer.ahead - (rowCount(l) + origin[l])
                if missing > 0 {
                    if precision == .int8 {
                        let zero = Int8(net.quantizedLayers[l].input.zeroPoint)
                        quantizedBuffers[l].append(contentsOf: repeatElement(zero, count: missing * layer.inputs))
                    } else {
                        buffers[l].append(contentsOf: repeatElement(0, count: missing * layer.inputs))
                    }
                }
                run(layer: l, upTo: received[l], into: &output)
            }
        }

        private func rowCount(_ l: Int) -> Int {
            (precision == .int8 ? quantizedBuffers[l].count : buffers[l].count) / net.layers[l].inputs
        }

        /// Computes layer `l`'s outputs for frames produced[l] ..< end and passes them on (the next layer's input,
        /// or the softmax).
        private mutating func run(layer l: Int, upTo end: Int, into output: inout [Float]) {
            let layer = net.layers[l]
            let count = end - produced[l]
            guard count > 0 else { return }
            let firstRow = produced[l] - layer.past - origin[l]
            let last = l + 1 == net.layers.count
            if precision == .int8 {
                let qlayer = net.quantizedLayers[l]
                var rows = [Int8](repeating: 0, count: count * layer.outputs)
                quantizedBuffers[l].withUnsafeBufferPointer { b in
                    rows.withUnsafeMutableBufferPointer { r in
                        gemmScratch.withUnsafeMutableBufferPointer { s in
                            qlayer.apply(input: b.baseAddress! + firstRow * layer.inputs, count: count, output: r.baseAddress!,
                                         scratch: s)
                        }
                    }
                }
                if last {
                    int8Logits?.append(contentsOf: rows)
                    var logits = [Float](repeating: 0, count: rows.count)
                    rows.withUnsafeBufferPointer { r in
                        logits.withUnsafeMutableBufferPointer { QuantizedConversion.dequantizeFast(r, output: $0, parameters: qlayer.output) }
                    }
                    Self.softmax(logits, classes: layer.outputs, into: &output)
                } else {
                    quantizedBuffers[l + 1].append(contentsOf: rows)
                }
            } else {
                var rows = [Float](repeating: 0, count: count * layer.outputs)
                buffers[l].withUnsafeBufferPointer { b in
                    rows.withUnsafeMutableBufferPointer { s in
                        layer.apply(input: b.baseAddress! + firstRow * layer.inputs, count: count, output: s.baseAddress!)
                    }
                }
                if last {
                    Self.softmax(rows, classes: layer.outputs, into: &output)
                } else {
                    buffers[l + 1].append(contentsOf: rows)
                }
            }
            produced[l] = end
            // Drop rows no later output needs.
            let keepFrom = produced[l] - layer.past
            let drop = keepFrom - origin[l]
            if drop > 256 {
                if precision == .int8 {
                    quantizedBuffers[l].removeFirst(drop * layer.inputs)
                } else {
                    buffers[l].removeFirst(drop * layer.inputs)
                }
                origin[l] = keepFrom
            }
            if !last {
                received[l + 1] += count
                run(layer: l + 1, upTo: received[l + 1] - net.layers[l + 1].ahead, into: &output)
            }
        }

        static func softmax(_ logits: [Float], classes: Int, into output: inout [Float]) {
            for t in 0..<(logits.count / classes) {
                let row = logits[(t * classes)..<((t + 1) * classes)]
                let peak = row.max()!
                let e = row.map { exp($0 - peak) }
                let sum = e.reduce(0, +)
                output.append(contentsOf: e.map { $0 / sum })
            }
        }
    }
}
