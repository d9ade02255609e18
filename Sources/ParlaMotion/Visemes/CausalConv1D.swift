/// One causal (or partly look-ahead) dilated 1-D convolution over 10 ms frames: output frame t reads input
/// frames `t − past … t + ahead` in steps of `dilation`, where `past = (kernel − 1 − future)·dilation` and
/// `ahead = future·dilation`. Weights are `[tap][input][output]` (output contiguous).
///
/// ``apply(input:count:output:)`` is the SIMD version (4 frames × 16 outputs per tile, SIMD8 lanes across
/// outputs); ``applyReference(input:count:output:)`` the scalar one. Both add in the same order for every
/// (frame, output) — bias, then taps in order, inputs in order — so they agree bit for bit and a frame's result
/// does not depend on how frames are grouped (streaming equals batch).
public struct CausalConv1D: Sendable {
    /// Input channels.
    public let inputs: Int
    /// Output channels.
    public let outputs: Int
    /// Taps.
    public let kernel: Int
    /// Frames between taps.
    public let dilation: Int
    /// Taps after the output frame.
    public let future: Int
    /// `[tap][input][output]`.
    public let weights: [Float]
    /// One per output.
    public let bias: [Float]
    /// Applies max(0, x) to the outputs.
    public let relu: Bool

    /// Input frames before the output frame the convolution reads.
    public var past: Int { (kernel - 1 - future) * dilation }
    /// Input frames after the output frame the convolution reads.
    public var ahead: Int { future * dilation }

    /// A layer; nil when the shapes disagree.
    public init?(inputs: Int, outputs: Int, kernel: Int, dilation: Int, future: Int, weights: [Float], bias: [Float],
                 relu: Bool) {
        guard inputs > 0, outputs > 0, kernel > 0, dilation > 0, future >= 0, future < kernel,
              weights.count == kernel * inputs * outputs, bias.count == outputs else { return nil }
        self.inputs = inputs
        self.outputs = outputs
        self.kernel = kernel
        self.dilation = dilation
        self.future = future
        self.weights = weights
        self.bias = bias
        self.relu = relu
    }

    /// Output frames 0 ..< count. `input` points at the row of input frame −past (rows of `inputs` floats); the
    /// rows up to frame count − 1 + ahead must be readable. `output` receives `count` rows of `outputs` floats.
    public func apply(input: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>) {
        let n = inputs, m = outputs, d = dilation
        let vectorOutputs = m / 16 * 16
        weights.withUnsafeBufferPointer { wb in
            bias.withUnsafeBufferPointer { bb in
                let w = UnsafeRawPointer(wb.baseAddress!), b = UnsafeRawPointer(bb.baseAddress!)
                var t = 0
                while t + 4 <= count {
                    var o = 0
                    while o < vectorOutputs {
                        let b0 = b.loadUnaligned(fromByteOffset: o * 4, as: SIMD8<Float>.self)
                        let b1 = b.loadUnaligned(fromByteOffset: (o + 8) * 4, as: SIMD8<Float>.self)
                        var a0 = b0, a1 = b1, c0 = b0, c1 = b1, e0 = b0, e1 = b1, g0 = b0, g1 = b1
                        for tap in 0..<kernel {
                            let x0 = input + (t + tap * d) * n
                            let x1 = x0 + n, x2 = x1 + n, x3 = x2 + n
                            var wo = (tap * n * m + o) * 4
                            for i in 0..<n {
                                let w0 = w.loadUnaligned(fromByteOffset: wo, as: SIMD8<Float>.self)
                                let w1 = w.loadUnaligned(fromByteOffset: wo + 32, as: SIMD8<Float>.self)
                                wo += m * 4
                                let s0 = SIMD8<Float>(repeating: x0[i]), s1 = SIMD8<Float>(repeating: x1[i])
                                let s2 = SIMD8<Float>(repeating: x2[i]), s3 = SIMD8<Float>(repeating: x3[i])
                                a0 += s0 * w0; a1 += s0 * w1
                                c0 += s1 * w0; c1 += s1 * w1
                                e0 += s2 * w0; e1 += s2 * w1
                                g0 += s3 * w0; g1 += s3 * w1
                            }
                        }
                        store(a0, a1, output + t * m + o)
                        store(c0, c1, output + (t + 1) * m + o)
                        store(e0, e1, output + (t + 2) * m + o)
                        store(g0, g1, output + (t + 3) * m + o)
                        o += 16
                    }
                    for f in t..<(t + 4) { scalar(input: input, frame: f, from: vectorOutputs, output: output, w: wb, b: bb) }
                    t += 4
                }
                // Two frames per weight load (the streaming composer's 20 ms pushes bring two frames at a time).
                while t + 2 <= count {
                    var o = 0
                    while o < vectorOutputs {
                        let b0 = b.loadUnaligned(fromByteOffset: o * 4, as: SIMD8<Float>.self)
                        let b1 = b.loadUnaligned(fromByteOffset: (o + 8) * 4, as: SIMD8<Float>.self)
                        var a0 = b0, a1 = b1, c0 = b0, c1 = b1
                        for tap in 0..<kernel {
                            let x0 = input + (t + tap * d) * n
                            let x1 = x0 + n
                            var wo = (tap * n * m + o) * 4
                            for i in 0..<n {
                                let w0 = w.loadUnaligned(fromByteOffset: wo, as: SIMD8<Float>.self)
                                let w1 = w.loadUnaligned(fromByteOffset: wo + 32, as: SIMD8<Float>.self)
                                wo += m * 4
                                let s0 = SIMD8<Float>(repeating: x0[i]), s1 = SIMD8<Float>(repeating: x1[i])
                                a0 += s0 * w0; a1 += s0 * w1
                                c0 += s1 * w0; c1 += s1 * w1
                            }
                        }
                        store(a0, a1, output + t * m + o)
                        store(c0, c1, output + (t + 1) * m + o)
                        o += 16
                    }
                    for f in t..<(t + 2) { scalar(input: input, frame: f, from: vectorOutputs, output: output, w: wb, b: bb) }
                    t += 2
                }
                while t < count {
                    var o = 0
                    while o < vectorOutputs {
                        var a0 = b.loadUnaligned(fromByteOffset: o * 4, as: SIMD8<Float>.self)
                        var a1 = b.loadUnaligned(fromByteOffset: (o + 8) * 4, as: SIMD8<Float>.self)
                        for tap in 0..<kernel {
                            let x0 = input + (t + tap * d) * n
                            var wo = (tap * n * m + o) * 4
                            for i in 0..<n {
                                let s0 = SIMD8<Float>(repeating: x0[i])
                                a0 += s0 * w.loadUnaligned(fromByteOffset: wo, as: SIMD8<Float>.self)
                                a1 += s0 * w.loadUnaligned(fromByteOffset: wo + 32, as: SIMD8<Float>.self)
                                wo += m * 4
                            }
                        }
                        store(a0, a1, output + t * m + o)
                        o += 16
                    }
                    scalar(input: input, frame: t, from: vectorOutputs, output: output, w: wb, b: bb)
                    t += 1
                }
            }
        }
    }

    @inline(__always)
    private func store(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        var a = a, b = b
        if relu {
            a.replace(with: SIMD8<Float>(repeating: 0), where: a .< 0)
            b.replace(with: SIMD8<Float>(repeating: 0), where: b .< 0)
        }
        UnsafeMutableRawPointer(p).storeBytes(of: a, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(p + 8).storeBytes(of: b, as: SIMD8<Float>.self)
    }

    private func scalar(input: UnsafePointer<Float>, frame t: Int, from first: Int, output: UnsafeMutablePointer<Float>,
                        w: UnsafeBufferPointer<Float>, b: UnsafeBufferPointer<Float>) {
        let n = inputs, m = outputs
        guard first < m else { return }
        for o in first..<m {
            var acc = b[o]
            for tap in 0..<kernel {
                let x = input + (t + tap * dilation) * n
                for i in 0..<n { acc += x[i] * w[(tap * n + i) * m + o] }
            }
            output[t * m + o] = relu ? max(acc, 0) : acc
        }
    }

    /// The scalar reference of ``apply(input:count:output:)``.
    public func applyReference(input: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>) {
        weights.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                for t in 0..<count { scalar(input: input, frame: t, from: 0, output: output, w: w, b: b) }
            }
        }
    }
}
