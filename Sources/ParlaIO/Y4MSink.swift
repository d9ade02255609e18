import Foundation
import ParlaMedia

/// Writes a YUV4MPEG2 (.y4m) stream: 4:2:0, BT.601 limited range, no external tools needed.
/// The synthetic mark travels as the header's `XPARLA=parla-synthetic` parameter: the tag only, because readers cap
/// the header line (ffmpeg 5.1 refuses one longer than 96 bytes) and the whole sentence would not fit.
public final class Y4MSink: FrameSink {
    public let width: Int
    public let height: Int
    private let destination: AtomicDestination
    private let handle: FileHandle
    private var yuv: [UInt8]
    private var finished = false

    /// Longest header line (with its newline) ffmpeg 5.1's demuxer reads.
    public static let headerLimit = 96

    /// The stream header for these dimensions and rate.
    public static func header(width: Int, height: Int, fps: Double) -> String {
        let (num, den) = FrameRate.fraction(fps)
        return "YUV4MPEG2 W\(width) H\(height) F\(num):\(den) Ip A1:1 C420jpeg XCOLORRANGE=LIMITED XPARLA=\(VideoMetadata.syntheticTag)\n"
    }

    public init(url: URL, width: Int, height: Int, fps: Double) throws {
        self.width = width
        self.height = height
        destination = AtomicDestination(url)
        try destination.checkWritable()
        guard FileManager.default.createFile(atPath: destination.temporary.path, contents: nil),
              let h = FileHandle(forWritingAtPath: destination.temporary.path) else {
            throw SinkError("\(url.path): cannot create file")
        }
        handle = h
        let (luma, chroma) = YUV420.planeSizes(width: width, height: height)
        yuv = [UInt8](repeating: 0, count: luma + 2 * chroma)
        let header = Self.header(width: width, height: height, fps: fps)
        do { try handle.write(contentsOf: Data(header.utf8)) } catch {
            destination.discard()
            throw SinkError("\(url.path): cannot write: \(error.localizedDescription)")
        }
    }

    public func write(_ frame: RGBAImage) throws {
        precondition(frame.width == width && frame.height == height, "frame size differs from the sink's")
        YUV420.convert(frame, into: &yuv)
        do {
            try handle.write(contentsOf: Data("FRAME\n".utf8))
            try yuv.withUnsafeBytes { try handle.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: $0.baseAddress!), count: $0.count, deallocator: .none)) }
        } catch {
            throw SinkError("\(destination.final.path): cannot write frame: \(error.localizedDescription)")
        }
    }

    public func finish() throws {
        guard !finished else { return }
        finished = true
        do { try handle.close() } catch {
            destination.discard()
            throw SinkError("\(destination.final.path): cannot close: \(error.localizedDescription)")
        }
        try destination.commit()
    }

    public func cancel() {
        guard !finished else { return }
        finished = true
        try? handle.close()
        destination.discard()
    }

    deinit { cancel() }
}
