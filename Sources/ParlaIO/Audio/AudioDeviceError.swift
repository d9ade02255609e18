import CALSA
import Foundation

/// A sound-device failure as one line: the device, the ALSA call and its message, e.g.
/// "ALSA device 'hw:1,0': snd_pcm_open: No such file or directory (errno 2)".
public struct AudioDeviceError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// The whole message.
    public let message: String
    /// The (positive) errno ALSA reported, if a call failed.
    public let errno: Int32?

    /// An error with a free-form message.
    public init(_ message: String, errno: Int32? = nil) {
        self.message = message
        self.errno = errno
    }

    public var description: String { message }
    public var errorDescription: String? { message }
}

/// Runs one alsa-lib call (they return a negative errno on failure), retrying on EINTR.
/// - Returns: the call's non-negative result.
@discardableResult
func alsaCall(_ call: String, device: String, _ body: () -> Int32) throws -> Int32 {
    while true {
        let result = body()
        if result >= 0 { return result }
        if -result == EINTR { continue }
        throw AudioDeviceError("ALSA device '\(device)': \(call): \(String(cString: snd_strerror(result))) (errno \(-result))",
                               errno: -result)
    }
}
