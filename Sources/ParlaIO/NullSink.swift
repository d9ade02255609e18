import ParlaMedia

/// Discards frames: for benchmarks, where only the work before the sink is measured.
public final class NullSink: FrameSink {
    public private(set) var framesWritten = 0
    public init() {}
    public func write(_ frame: RGBAImage) throws { framesWritten += 1 }
    public func finish() throws {}
    public func cancel() {}
}
