import Foundation

/// A failure writing output, as one line naming the file and the cause.
public struct SinkError: Error, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}

/// Output written under a temporary name next to its destination and renamed into place on success,
/// so a failed or interrupted run never leaves a half-written file at the destination.
struct AtomicDestination {
    let final: URL
    let temporary: URL

    init(_ final: URL) {
        self.final = final
        let dir = final.deletingLastPathComponent()
        let ext = final.pathExtension
        var tmpName = ".\(final.deletingPathExtension().lastPathComponent).partial-\(getpid())"
        if !ext.isEmpty { tmpName += ".\(ext)" }
        self.temporary = dir.appendingPathComponent(tmpName)
    }

    /// Checks that the destination's folder exists and is writable before any work starts.
    func checkWritable() throws {
        let dir = final.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw SinkError("\(final.path): folder \(dir) does not exist")
        }
        guard FileManager.default.isWritableFile(atPath: dir) else {
            throw SinkError("\(final.path): folder \(dir) is not writable")
        }
    }

    /// Moves the finished temporary into place, replacing any existing destination.
    func commit() throws {
        if rename(temporary.path, final.path) != 0 {
            let err = String(cString: strerror(errno))
            throw SinkError("\(final.path): cannot move finished output into place: \(err)")
        }
    }

    func discard() {
        try? FileManager.default.removeItem(at: temporary)
    }
}
