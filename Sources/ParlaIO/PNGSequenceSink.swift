import Foundation
import ParlaMedia

/// Writes each frame as `frame-000001.png`… into a folder, built under a temporary name and renamed into place
/// when complete. The folder also receives `synthetic.txt` carrying the synthetic mark.
public final class PNGSequenceSink: FrameSink {
    private let destination: AtomicDestination
    private let comment: String
    private var index = 0
    private var finished = false

    public init(directory: URL, comment: String) throws {
        destination = AtomicDestination(directory)
        self.comment = comment
        try destination.checkWritable()
        destination.discard()
        do {
            try FileManager.default.createDirectory(at: destination.temporary, withIntermediateDirectories: false)
        } catch {
            throw SinkError("\(directory.path): cannot create folder: \(error.localizedDescription)")
        }
    }

    public func write(_ frame: RGBAImage) throws {
        index += 1
        let name = String(format: "frame-%06d.png", index)
        try ImageCodec.writePNG(frame, to: destination.temporary.appendingPathComponent(name))
    }

    public func finish() throws {
        guard !finished else { return }
        finished = true
        do {
            try Data((comment + "\n").utf8).write(to: destination.temporary.appendingPathComponent("synthetic.txt"))
            if FileManager.default.fileExists(atPath: destination.final.path) {
                try FileManager.default.removeItem(at: destination.final)
            }
        } catch {
            destination.discard()
            throw SinkError("\(destination.final.path): \(error.localizedDescription)")
        }
        try destination.commit()
    }

    public func cancel() {
        guard !finished else { return }
        finished = true
        destination.discard()
    }

    deinit { cancel() }
}

