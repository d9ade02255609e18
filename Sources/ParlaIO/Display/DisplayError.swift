import Foundation

/// A display failure the user can act on, as one line: what was being done, the device, and the cause
/// (for system calls: the call, `strerror` and the errno, e.g.
/// "drmModeAtomicCommit: Device or resource busy (errno 16)").
public struct DisplayError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The whole message.
    public let message: String
    /// The errno of the failing system call, if one failed.
    public let errno: Int32?

    /// An error with a free-form message.
    public init(_ message: String, errno: Int32? = nil) {
        self.message = message
        self.errno = errno
    }

    public var description: String { message }
    public var errorDescription: String? { message }
}

/// Formats a failed call as "call: strerror (errno N)".
func describeFailure(_ call: String, errno code: Int32) -> String {
    "\(call): \(String(cString: strerror(code))) (errno \(code))"
}

/// Runs one libdrm (or plain POSIX) call that reports failure as a negative return, retrying on EINTR.
///
/// libdrm functions return either -1 with `errno` set or `-errno` directly; both are read here at once,
/// before anything else can overwrite `errno`.
/// - Parameters:
///   - call: the C function's name, used in the error message.
///   - context: an optional prefix such as the device path.
///   - body: the call; its result is returned when non-negative.
/// - Returns: the call's non-negative result.
@discardableResult
func drmCall(_ call: String, context: String? = nil, _ body: () -> Int32) throws -> Int32 {
    while true {
        Glibc.errno = 0
        let result = body()
        if result >= 0 { return result }
        let saved = Glibc.errno
        let code = saved != 0 ? saved : -result
        if code == EINTR { continue }
        let text = describeFailure(call, errno: code)
        throw DisplayError(context.map { "\($0): \(text)" } ?? text, errno: code)
    }
}
