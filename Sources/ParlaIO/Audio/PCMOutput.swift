/// Where a playback stream writes: the ALSA device, or a simulated device in tests.
public protocol PCMOutput: AnyObject {
    /// Frames per second actually used by the device.
    var sampleRate: Int { get }
    /// Interleaved channels per frame.
    var channels: Int { get }
    /// Frames per period (the write granularity, ~10 ms).
    var periodFrames: Int { get }
    /// Frames the device buffers.
    var bufferFrames: Int { get }
    /// Writes all of `frames` (interleaved, `channels` samples per frame), blocking while the device is full.
    /// An underrun on the way is recovered from and counted in the result; only a device that keeps failing throws.
    func write(_ frames: UnsafeBufferPointer<Int16>) throws -> PCMWriteResult
    /// The clock reading right now: frames written so far, the current delay, whether it runs.
    func clockSample() -> ClockSample
}

/// What one ``PCMOutput/write(_:)`` did.
public struct PCMWriteResult: Sendable, Equatable {
    /// Frames accepted.
    public var frames: Int
    /// Underruns (and stream restarts) recovered from during the write.
    public var underruns: Int

    /// A result.
    public init(frames: Int, underruns: Int) {
        self.frames = frames
        self.underruns = underruns
    }
}

/// Float samples in [-1, 1] to signed 16-bit PCM.
public enum PCMConversion {
    /// Rounds `x · 32768` to the nearest integer, clamped to the Int16 range; NaN gives 0. The same scale as
    /// `WAVFile`, so 16-bit samples read from a WAV reach the device unchanged.
    @inline(__always)
    public static func int16(_ x: Float) -> Int16 {
        guard x == x else { return 0 }
        let scaled = (x * 32768).rounded()
        return Int16(max(-32768, min(32767, scaled)))
    }

    /// Converts interleaved float frames to interleaved 16-bit frames (sample by sample, ``int16(_:)``).
    public static func int16(_ samples: [Float], into out: inout [Int16]) {
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: repeatElement(0, count: samples.count))
        out.withUnsafeMutableBufferPointer { o in
            samples.withUnsafeBufferPointer { s in
                for i in 0..<s.count { o[i] = int16(s[i]) }
            }
        }
    }
}
