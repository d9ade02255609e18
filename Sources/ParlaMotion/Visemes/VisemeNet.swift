import Foundation
import ParlaMedia

/// The learned audio → viseme network: 80 log-mel bands per 10 ms (``VisemeFrontEnd``) → a stack of
/// ``CausalConv1D`` layers (ReLU between) → softmax over the 16 ``Viseme`` classes. The look-ahead is fixed
/// by the layers (``lookAheadFrames``; 4 frames = 40 ms for the bundled model, 52.5 ms of audio counting the
/// analysis window's second half). Trained and exported by Tools/train-visemenet; see docs/motion.md.
///
/// File format (`.vnet`, little-endian): `"VNET"`, u32 version 1, u32 JSON length, JSON metadata (layers:
/// in/out/kernel/dilation/future; provenance), then per layer int8 weights `[out][tap][in]`, f32 scale per
/// output channel, f32 bias; then f32 mean[80] and std[80] of the input normalisation. Weights are stored as
/// int8 (symmetric, per output channel) and expanded to fp32 at load; activations run in fp32.
public struct VisemeNet: Sendable {
    /// The layers in order.
    public let layers: [CausalConv1D]
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
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("VNET".utf8) else { throw fail("not a .vnet file") }
        guard u32(4) == 1 else { throw fail("version \(u32(4)) is not supported (expected 1)") }
        let jsonLength = u32(8)
        guard 12 + jsonLength <= bytes.count,
              let json = try? JSONSerialization.jsonObject(with: Data(bytes[12..<(12 + jsonLength)])) as? [String: Any],
              let specs = json["layers"] as? [[String: Any]], !specs.isEmpty else { throw fail("metadata is unreadable") }
        metadataJSON = String(decoding: bytes[12..<(12 + jsonLength)], as: UTF8.self)
        var offset = 12 + jsonLength
        func floats(_ count: Int) throws -> [Float] {
            guard offset + 4 * count <= bytes.count else { throw fail("file is truncated") }
            let values = (0..<count).map { Float(bitPattern: UInt32(u32(offset + 4 * $0))) }
            offset += 4 * count
            return values
        }
        var layers = [CausalConv1D]()
        var previous = -1
        for (index, spec) in specs.enumerated() {
            guard let n = spec["in"] as? Int, let m = spec["out"] as? Int, let k = spec["kernel"] as? Int,
                  let d = spec["dilation"] as? Int, let f = spec["future"] as? Int,
                  n > 0, m > 0, k > 0, d > 0, f >= 0, f < k, n * m * k < 1 << 24, previous < 0 || previous == n else {
                throw fail("layer \(index) has an invalid shape")
            }
            previous = m
            guard offset + n * m * k <= bytes.count else { throw fail("file is truncated") }
            let q = bytes[offset..<(offset + n * m * k)].map { Int8(bitPattern: $0) }
            offset += n * m * k
            let scale = try floats(m), bias = try floats(m)
            // Stored [out][tap][in]; the runner wants [tap][in][out].
            var w = [Float](repeating: 0, count: n * m * k)
            for o in 0..<m {
                for tap in 0..<k {
                    for i in 0..<n { w[(tap * n + i) * m + o] = Float(q[(o * k + tap) * n + i]) * scale[o] }
                }
            }
            guard let layer = CausalConv1D(inputs: n, outputs: m, kernel: k, dilation: d, future: f, weights: w,
                                           bias: bias, relu: index < specs.count - 1) else {
                throw fail("layer \(index) has an invalid shape")
            }
            layers.append(layer)
        }
        let bands = layers[0].inputs
        mean = try floats(bands)
        std = try floats(bands)
        guard offset == bytes.count else { throw fail("\(bytes.count - offset) unexpected bytes at the end") }
        guard std.allSatisfy({ $0 > 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else {
            throw fail("input normalisation is not finite and positive")
        }
        guard layers.last!.outputs == VisemeTrack.classCount else {
            throw fail("the last layer has \(layers.last!.outputs) outputs, expected \(VisemeTrack.classCount)")
        }
        self.layers = layers
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

    /// Posteriors for whole log-mel frames (batch). Same numbers as a ``Stream`` fed the same frames.
    public func posteriors(logMel: [Float]) -> VisemeTrack {
        var stream = makeStream()
        var out = [Float]()
        stream.push(logMel: logMel, into: &out)
        stream.finish(into: &out)
        return VisemeTrack(posteriors: out) ?? VisemeTrack(frameCount: 0)
    }

    /// Posteriors for 16 kHz audio (other rates are resampled first): one frame per 10 ms at k·10 ms.
    public func track(for audio: AudioBuffer) -> VisemeTrack {
        let speech = audio.sampleRate == AudioBuffer.analysisRate ? audio : Resampler.resample(audio, to: AudioBuffer.analysisRate)
        return posteriors(logMel: VisemeFrontEnd().analyse(speech.samples).logMel)
    }

    /// A streaming runner with empty history.
    public func makeStream() -> Stream { Stream(net: self) }

    /// Frame-by-frame inference: push log-mel frames as they arrive; the posteriors of frame t come out once
    /// frame t + ``lookAheadFrames`` was pushed. ``finish(into:)`` flushes the rest (as if zeros followed, like
    /// the batch form). Output equals ``posteriors(logMel:)`` exactly.
    public struct Stream: Sendable {
        let net: VisemeNet
        /// Per layer: input rows held, starting at frame `origin[l]` (negative rows are the zero history).
        private var buffers: [[Float]]
        private var origin: [Int]
        private var received: [Int]
        private var produced: [Int]
        private var scratch: [Float] = []

        init(net: VisemeNet) {
            self.net = net
            buffers = net.layers.map { [Float](repeating: 0, count: $0.past * $0.inputs) }
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
            feed(layer: 0, rows: normalised, into: &output)
        }

        /// Flushes: every layer sees zeros after the last frame, as in the batch form.
        public mutating func finish(into output: inout [Float]) {
            for l in net.layers.indices {
                let layer = net.layers[l]
                let missing = received[l] + layer.ahead - (buffers[l].count / layer.inputs + origin[l])
                if missing > 0 { buffers[l].append(contentsOf: repeatElement(0, count: missing * layer.inputs)) }
                let target = received[l]
                run(layer: l, upTo: target, into: &output)
            }
        }

        private mutating func feed(layer l: Int, rows: [Float], into output: inout [Float]) {
            let layer = net.layers[l]
            buffers[l].append(contentsOf: rows)
            received[l] += rows.count / layer.inputs
            run(layer: l, upTo: received[l] - layer.ahead, into: &output)
        }

        /// Computes layer `l`'s outputs for frames produced[l] ..< end and passes them on.
        private mutating func run(layer l: Int, upTo end: Int, into output: inout [Float]) {
            let layer = net.layers[l]
            let count = end - produced[l]
            guard count > 0 else { return }
            scratch = [Float](repeating: 0, count: count * layer.outputs)
            let firstRow = produced[l] - layer.past - origin[l]
            buffers[l].withUnsafeBufferPointer { b in
                scratch.withUnsafeMutableBufferPointer { s in
                    layer.apply(input: b.baseAddress! + firstRow * layer.inputs, count: count, output: s.baseAddress!)
                }
            }
            produced[l] = end
            // Drop rows no later output needs.
            let keepFrom = produced[l] - layer.past
            let drop = keepFrom - origin[l]
            if drop > 256 {
                buffers[l].removeFirst(drop * layer.inputs)
                origin[l] = keepFrom
            }
            let rows = scratch
            if l + 1 < net.layers.count {
                feed(layer: l + 1, rows: rows, into: &output)
            } else {
                Self.softmax(rows, classes: layer.outputs, into: &output)
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
