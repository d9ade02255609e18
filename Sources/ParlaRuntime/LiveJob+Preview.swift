import Foundation
import ParlaIO
import ParlaMedia
import ParlaRender

extension LiveJob {
    /// The screen `parla live` would show for composed frame `frame`, without a display: the decoded face fitted,
    /// rotated and bordered into the `--mode WIDTHxHEIGHT` screen, opaque (with `hud`, the overlay over it). For checking `--fit`, `--rotate` and
    /// `--background` on a machine without a display, and for the display test, which compares it with the
    /// picture QEMU scanned out.
    public func preview(frame: Int, makeDecoder: LiveDecoderFactory) throws -> RGBAImage {
        let o = options
        guard case let .size(width, height, _) = o.mode else {
            throw RuntimeError("a preview needs --mode WIDTHxHEIGHT (there is no display to take the size from)")
        }
        let painter = try LivePainter(options: o, screenWidth: width, screenHeight: height)
        let speech = try SpeechInput.load(o.audio)
        let (frames, _) = try Self.compose(speech: speech, options: o)
        guard frames.indices.contains(frame) else {
            throw RuntimeError("preview frame \(frame) is outside the \(frames.count) composed frames (0…\(frames.count - 1))")
        }
        let decoder = try makeDecoder(o.size, o.size)
        var picture = RGBAImage(width: o.size, height: o.size)
        try decoder.decode(frames[frame], into: &picture)
        var screen = [UInt32](repeating: 0, count: width * height)
        // With --hud, the overlay as it looks at the composed rate with nothing measured yet.
        var meter = LiveHUD(temperature: CPUTemperature(root: o.thermalRoot))
        let hud = o.hud ? meter.reading(now: 0, frameSeconds: 0, lagSeconds: nil, dropped: 0) : nil
        screen.withUnsafeMutableBytes {
            painter.paint(picture, into: ScanoutTarget(pixels: $0.baseAddress!, pitch: width * 4, width: width, height: height),
                          hud: hud, background: true)
        }
        var out = RGBAImage(width: width, height: height)
        out.pixels.withUnsafeMutableBufferPointer { p in
            for (i, v) in screen.enumerated() {
                p[4 * i] = UInt8(truncatingIfNeeded: v >> 16)
                p[4 * i + 1] = UInt8(truncatingIfNeeded: v >> 8)
                p[4 * i + 2] = UInt8(truncatingIfNeeded: v)
                p[4 * i + 3] = 255
            }
        }
        return out
    }

    /// Writes ``preview(frame:makeDecoder:)`` as a PNG at `url` (through a temporary file, renamed into place).
    public func writePreview(frame: Int, to url: URL, makeDecoder: LiveDecoderFactory) throws {
        let png = try ImageCodec.encodePNG(preview(frame: frame, makeDecoder: makeDecoder))
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())")
        do {
            try Data(png).write(to: temporary)
        } catch {
            throw RuntimeError("\(url.path): cannot write the preview: \(error.localizedDescription)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let cause = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw RuntimeError("\(url.path): cannot move the preview into place: \(cause)")
        }
    }
}
