import Foundation

/// The write end of the self-pipe the signal handler writes to (set before the handler is installed).
nonisolated(unsafe) private var stopSignalWriteFD: Int32 = -1

/// A stop request as a readable file descriptor, so a loop blocked in `poll` on the DRM fd wakes up, stops
/// cleanly and restores the display. With `handlingSignals`, SIGINT and SIGTERM trigger it (the classic self-pipe:
/// the handler only calls `write`); ``trigger()`` does the same from code.
public final class StopSignal: @unchecked Sendable {
    /// Readable once a stop was requested (never drained, so every poller sees it).
    public let fd: Int32
    private let writeFD: Int32

    /// A new, untriggered stop signal. With `handlingSignals`, SIGINT and SIGTERM are routed to it (replacing
    /// the routing of any earlier instance).
    public init(handlingSignals: Bool) {
        var fds: [Int32] = [0, 0]
        if pipe(&fds) != 0 { fatalError("pipe() failed: \(String(cString: strerror(errno)))") }
        for f in fds {
            _ = fcntl(f, F_SETFD, FD_CLOEXEC)
            _ = fcntl(f, F_SETFL, fcntl(f, F_GETFL) | O_NONBLOCK)
        }
        fd = fds[0]
        writeFD = fds[1]
        guard handlingSignals else { return }
        stopSignalWriteFD = writeFD
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            var byte: UInt8 = 1
            _ = write(stopSignalWriteFD, &byte, 1)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
    }

    deinit {
        if stopSignalWriteFD == writeFD {
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
            stopSignalWriteFD = -1
        }
        close(fd)
        close(writeFD)
    }

    /// Whether a stop was requested.
    public var isTriggered: Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) > 0
    }

    /// Requests a stop from code (tests, a controlling thread), as if a signal had arrived.
    public func trigger() {
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }

    /// Sleeps until `seconds` have passed or a stop is requested; returns true when stopped.
    public func wait(seconds: Double) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ms = Int32(max(0, min(seconds * 1000, 60_000)).rounded(.up))
        while true {
            let r = poll(&p, 1, ms)
            if r < 0 && errno == EINTR { continue }
            return r > 0
        }
    }
}
