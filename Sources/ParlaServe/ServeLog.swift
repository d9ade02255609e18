import FlyingSocks
import Foundation

/// Leveled log lines on stderr (`LEVEL component: message`), which journald stores with the unit when Parla runs as
/// a service. (swift-log is not used: its current release needs Swift 6.2 tools, and the package must build with
/// Swift 6.0.3 on the boards.) Also serves as the HTTP server's logger.
public struct ServeLog: Sendable, FlyingSocks.Logging {
    public enum Level: Int, Comparable, Sendable, CaseIterable {
        case debug, info, warning, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        /// Parses debug, info, warning (warn), error.
        public init?(name: String) {
            switch name.lowercased() {
            case "debug": self = .debug
            case "info": self = .info
            case "warning", "warn": self = .warning
            case "error": self = .error
            default: return nil
            }
        }
        var label: String { ["debug", "info", "warning", "error"][rawValue] }
    }

    public let level: Level
    /// Where lines go (stderr by default; tests collect them).
    let sink: @Sendable (String) -> Void

    public init(level: Level, sink: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) {
        self.level = level
        self.sink = sink
    }

    public func log(_ l: Level, _ message: @autoclosure () -> String) {
        guard l >= level else { return }
        sink("\(l.label) parla-serve: \(message())")
    }

    public func logDebug(_ debug: @autoclosure () -> String) { log(.debug, debug()) }
    public func logInfo(_ info: @autoclosure () -> String) { log(.debug, info()) }   // per-connection chatter
    public func logWarning(_ warning: @autoclosure () -> String) { log(.warning, warning()) }
    public func logError(_ error: @autoclosure () -> String) { log(.warning, error()) }   // a client's broken connection
    /// FlyingFox's critical lines are "server error: …", the error its `run()` also throws: ``ServeRunner`` reports that
    /// once (`parla: error: --listen …`) or, after a requested stop, not at all, so here it is only debug chatter.
    public func logCritical(_ critical: @autoclosure () -> String) {
        let text = critical()
        log(text.hasPrefix("server error: ") ? .debug : .error, text)
    }
}
