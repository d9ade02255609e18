import Foundation

/// The pipeline stages whose time `parla render --json` and `parla bench render` report.
public enum Stage: String, CaseIterable, Codable, Sendable {
    /// Reading and decoding the portrait or avatar and the audio, resampling to 16 kHz.
    case decode
    /// Face detection, mesh, iris and avatar building (zero when rendering a prepared avatar).
    case analysis
    /// Audio → MotionFrames (features, driver, composer).
    case motion
    /// MotionFrame → picture (the frame decoder).
    case frameDecode = "frame_decode"
    /// Handing frames to the sink (colour conversion, piping to ffmpeg, file writes) and finishing the file.
    case encode
}

/// Accumulates wall-clock seconds per ``Stage``.
public struct StageTimer: Sendable {
    public private(set) var seconds: [Stage: Double] = [:]

    public init() {}

    /// Runs `body`, adding its duration to `stage`.
    public mutating func measure<T>(_ stage: Stage, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { seconds[stage, default: 0] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try body()
    }

    public var total: Double { seconds.values.reduce(0, +) }
}
