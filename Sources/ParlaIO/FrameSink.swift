import ParlaMedia

/// Where finished frames go: a video file, an image sequence, a display, or nowhere (benchmarks).
public protocol FrameSink: AnyObject {
    /// Takes one frame; frames arrive in presentation order at the sink's frame rate.
    func write(_ frame: RGBAImage) throws
    /// Completes the output (flushes, closes, renames the temporary file into place).
    func finish() throws
    /// Abandons the output, removing anything partly written.
    func cancel()
}
