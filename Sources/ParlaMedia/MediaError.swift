import Foundation

/// A problem with a media file (image or audio): bad content, unsupported encoding, or an I/O failure.
///
/// `description` is one line, `"<file>: <what is wrong>"`, suitable for printing to a terminal as is.
public struct MediaError: Error, CustomStringConvertible, LocalizedError, Sendable, Equatable {
    /// The file as the caller named it (a path, or the `name` passed with in-memory data).
    public var file: String
    /// What is wrong, in one line, without the file name.
    public var problem: String

    /// Creates an error; line breaks in `problem` are folded so the description stays one line.
    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// `"<file>: <problem>"`.
    public var description: String { "\(file): \(problem)" }

    /// Same as ``description``, so `localizedDescription` prints the one line too.
    public var errorDescription: String? { description }
}

/// Whole-file reads and atomic writes with errors that name the file.
enum MediaFileIO {
    /// Reads a whole file into memory.
    static func readBytes(of url: URL) throws -> [UInt8] {
        let path = url.path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw MediaError(file: path, problem: "cannot open: \(errnoText())") }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw MediaError(file: path, problem: "cannot stat: \(errnoText())") }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw MediaError(file: path, problem: "is a directory, not a file") }
        var bytes = [UInt8]()
        if info.st_size > 0 { bytes.reserveCapacity(Int(info.st_size)) }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw MediaError(file: path, problem: "read failed: \(errnoText())")
            }
            if got == 0 { break }
            bytes.append(contentsOf: chunk[0..<got])
        }
        return bytes
    }

    /// Writes `bytes` to a temporary file beside `url`, flushes it, then renames it over `url`, so readers
    /// never see a half-written file. On failure the temporary file is removed and `url` is untouched.
    static func writeAtomically(_ bytes: [UInt8], to url: URL) throws {
        let path = url.path
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 { throw MediaError(file: path, problem: "cannot create a temporary file in \(directory): \(errnoText())") }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        do {
            defer { close(fd) }
            var offset = 0
            try bytes.withUnsafeBytes { raw in
                while offset < raw.count {
                    let wrote = write(fd, raw.baseAddress! + offset, raw.count - offset)
                    if wrote < 0 {
                        if errno == EINTR { continue }
                        throw MediaError(file: path, problem: "write failed: \(errnoText())")
                    }
                    offset += wrote
                }
            }
            if fsync(fd) != 0 { throw MediaError(file: path, problem: "fsync failed: \(errnoText())") }
        }
        if rename(temporary, path) != 0 { throw MediaError(file: path, problem: "cannot rename into place: \(errnoText())") }
        ok = true
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
