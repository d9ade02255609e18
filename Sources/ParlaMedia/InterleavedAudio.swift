/// PCM audio as it is heard: interleaved float frames (`channels` samples in [-1, 1] each) at the source's rate.
///
/// Analysis works on a 16 kHz mono copy (``mixedToMono()`` then ``AudioBuffer/resampledForAnalysis()``); what is
/// played keeps the source's rate and channels, so a 10 kHz component or a stereo image reaches the speaker.
public struct InterleavedAudio: Sendable, Equatable {
    public var sampleRate: Int
    public var channels: Int
    /// Frame after frame, `channels` samples each.
    public var samples: [Float]

    public init(sampleRate: Int, channels: Int, samples: [Float]) {
        precondition(sampleRate > 0 && channels > 0, "empty format")
        precondition(samples.count % channels == 0, "partial frame")
        self.sampleRate = sampleRate
        self.channels = channels
        self.samples = samples
    }

    /// One channel: `mono` as it is.
    public init(mono: AudioBuffer) {
        self.init(sampleRate: mono.sampleRate, channels: 1, samples: mono.samples)
    }

    /// Frames (samples per channel).
    public var frameCount: Int { samples.count / channels }
    /// Length in seconds.
    public var duration: Double { Double(frameCount) / Double(sampleRate) }

    /// The channels averaged, at the same rate.
    public func mixedToMono() -> AudioBuffer {
        var mono = [Float]()
        samples.withUnsafeBufferPointer { ChannelMap.remap($0, from: channels, to: 1, appendingTo: &mono) }
        return AudioBuffer(sampleRate: sampleRate, samples: mono)
    }

    /// Channel `c` alone.
    public func channel(_ c: Int) -> [Float] {
        precondition(c >= 0 && c < channels, "no channel \(c)")
        return stride(from: c, to: samples.count, by: channels).map { samples[$0] }
    }

    /// Every channel resampled to `rate` with ``Resampler`` (zero phase: frame k stays at time k / rate).
    public func resampled(to rate: Int) -> InterleavedAudio {
        if rate == sampleRate { return self }
        let parts = (0..<channels).map { Resampler.resample(AudioBuffer(sampleRate: sampleRate, samples: channel($0)), to: rate).samples }
        return InterleavedAudio(sampleRate: rate, channels: channels, samples: ChannelMap.interleave(parts))
    }

    /// The frames with `count` channels (``ChannelMap``).
    public func remapped(toChannels count: Int) -> InterleavedAudio {
        if count == channels { return self }
        var out = [Float]()
        samples.withUnsafeBufferPointer { ChannelMap.remap($0, from: channels, to: count, appendingTo: &out) }
        return InterleavedAudio(sampleRate: sampleRate, channels: count, samples: out)
    }

    /// The audio as a device playing `rate` Hz with `channels` channels needs it.
    public func converted(toRate rate: Int, channels count: Int) -> InterleavedAudio {
        // Fewer channels first: less to resample.
        count < channels ? remapped(toChannels: count).resampled(to: rate) : resampled(to: rate).remapped(toChannels: count)
    }
}

/// Interleaved frames from one channel count to another, as a sound device that insists on a count gets them:
/// mono → every channel the same; any → mono: the average; more channels than the source: the source's channels
/// repeated in turn (stereo on four: L R L R); fewer (but more than one): the first ones.
public enum ChannelMap {
    public static func remap(_ input: UnsafeBufferPointer<Float>, from: Int, to: Int, appendingTo output: inout [Float]) {
        precondition(from > 0 && to > 0 && input.count % from == 0, "partial frame")
        let frames = input.count / from
        if from == to {
            output.append(contentsOf: input)
            return
        }
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: frames * to))
        output.withUnsafeMutableBufferPointer { out in
            if to == 1 {
                let scale = 1 / Float(from)
                for f in 0..<frames {
                    var sum: Float = 0
                    for c in 0..<from { sum += input[f * from + c] }
                    out[start + f] = sum * scale
                }
            } else {
                for f in 0..<frames {
                    for c in 0..<to { out[start + f * to + c] = input[f * from + c % from] }
                }
            }
        }
    }

    /// Equal-length channels → interleaved frames.
    public static func interleave(_ channels: [[Float]]) -> [Float] {
        guard let first = channels.first else { return [] }
        let n = channels.count
        var out = [Float](repeating: 0, count: first.count * n)
        for (c, samples) in channels.enumerated() {
            precondition(samples.count == first.count, "channels of different lengths")
            for (f, s) in samples.enumerated() { out[f * n + c] = s }
        }
        return out
    }
}

/// A stream of interleaved frames converted, chunk by chunk, to a device's rate and channel count: channels mapped
/// (``ChannelMap``), then every channel through its own ``StreamingResampler``. Chunks of any size give the same
/// output as the whole stream at once; each output frame k is at time k / device rate (zero phase), so a clock
/// counting the frames written stays true, though output lags input by the filter's look-ahead.
public struct StreamingFormatConverter: Sendable {
    public let inputRate: Int
    public let inputChannels: Int
    public let outputRate: Int
    public let outputChannels: Int
    private var resamplers: [StreamingResampler]
    private var mapped: [Float] = []
    private var lane: [Float] = []
    private var lanes: [[Float]]

    public init(from inputRate: Int, channels inputChannels: Int, to outputRate: Int, channels outputChannels: Int) {
        self.inputRate = inputRate
        self.inputChannels = inputChannels
        self.outputRate = outputRate
        self.outputChannels = outputChannels
        resamplers = inputRate == outputRate ? []
            : (0..<outputChannels).map { _ in StreamingResampler(from: inputRate, to: outputRate) }
        lanes = [[Float]](repeating: [], count: outputChannels)
    }

    /// Converts the next interleaved frames and appends the output frames now available.
    public mutating func process(_ input: UnsafeBufferPointer<Float>, appendingTo output: inout [Float]) {
        mapped.removeAll(keepingCapacity: true)
        ChannelMap.remap(input, from: inputChannels, to: outputChannels, appendingTo: &mapped)
        if resamplers.isEmpty {
            output.append(contentsOf: mapped)
            return
        }
        let n = outputChannels, frames = mapped.count / n
        for c in 0..<n {
            lane.removeAll(keepingCapacity: true)
            for f in 0..<frames { lane.append(mapped[f * n + c]) }
            lanes[c].removeAll(keepingCapacity: true)
            lane.withUnsafeBufferPointer { resamplers[c].process($0, appendingTo: &lanes[c]) }
        }
        let produced = lanes[0].count
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: produced * n))
        for c in 0..<n {
            for f in 0..<produced { output[start + f * n + c] = lanes[c][f] }
        }
    }

    /// Convenience for arrays.
    public mutating func process(_ input: [Float]) -> [Float] {
        var out = [Float]()
        input.withUnsafeBufferPointer { process($0, appendingTo: &out) }
        return out
    }

    /// Seconds of input the resampler needs beyond a frame before it can give that frame out (0 without one).
    public var lookAheadSeconds: Double {
        resamplers.first.map { $0.design.halfWidth / Double(inputRate) } ?? 0
    }
}
