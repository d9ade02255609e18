import Foundation
import ParlaFace
import ParlaIO
import ParlaRuntime

/// `parla serve` end to end: the engine's render loop on a thread of its own, the control API on Swift's
/// concurrency pool, both stopped by SIGINT/SIGTERM (systemd's stop).
public enum ServeRunner {
    /// Runs until a stop signal (SIGINT, SIGTERM) and returns normally after the engine restored the display and
    /// closed the audio; throws a one-line error when the address cannot be bound, the server fails on its own or the
    /// engine fails.
    public static func run(engine: FaceEngine, options: ServeOptions, log: ServeLog) throws {
        let server = try ControlServer(engine: engine, options: options, log: log)
        let stop = StopSignal(handlingSignals: true)
        let outcome = Outcome()

        // The server first: an address that cannot be bound fails before the face starts (one line, no engine).
        let serverDone = DispatchSemaphore(value: 0)
        let ready = DispatchSemaphore(value: 0)
        let task = Task {
            do { try await server.run() } catch { outcome.serverFailed(error) }
            stop.trigger()
            ready.signal()
            serverDone.signal()
        }
        Task {
            if let port = try? await server.waitUntilListening() {
                log.log(.info, "listening on \(options.host):\(port)\(options.token == nil ? "" : " (bearer token required)"), sink \(engine.configuration.sink.rawValue), \(engine.configuration.size)x\(engine.configuration.size) at \(Int(engine.configuration.fps)) fps")
            }
            ready.signal()
        }
        ready.wait()
        if let failure = outcome.failure {
            serverDone.wait()
            throw failure
        }

        let engineDone = DispatchSemaphore(value: 0)
        let thread = Thread {
            do { try engine.run(stop: stop) } catch { outcome.engineFailed(error) }
            stop.trigger()
            engineDone.signal()
        }
        thread.name = "parla-engine"
        thread.start()

        while !stop.wait(seconds: 60) {}
        // From here on an error out of the server is the stop itself (FlyingFox's run throws SocketError.disconnected
        // or CancellationError when stopped), not a failure; the engine's errors (restoring the display, closing the
        // audio) still count.
        if outcome.beginStopping() { log.log(.info, "stopping") }
        Task { await server.stop() }
        _ = serverDone.wait(timeout: .now() + 3)
        task.cancel()
        engineDone.wait()
        if let failure = outcome.failure { throw failure }
    }

    /// The first failure of the engine (any time) or of the server (before the stop began).
    private final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var error: Error?
        private var isStopping = false

        func engineFailed(_ error: Error) {
            lock.lock(); defer { lock.unlock() }
            if self.error == nil { self.error = error }
        }

        func serverFailed(_ error: Error) {
            lock.lock(); defer { lock.unlock() }
            if !isStopping, self.error == nil { self.error = error }
        }

        /// Marks the stop as begun; true when nothing had failed (a requested stop).
        func beginStopping() -> Bool {
            lock.lock(); defer { lock.unlock() }
            isStopping = true
            return error == nil
        }

        var failure: Error? {
            lock.lock(); defer { lock.unlock() }
            return error
        }
    }

    /// The avatar file at `url`, or the bundled demo portrait analysed now when nil; with its display name.
    public static func loadAvatar(_ url: URL?) throws -> (Avatar, String) {
        if let url { return (try AvatarFile.read(contentsOf: url), url.lastPathComponent) }
        let portrait = try DemoContent.portrait
        let image = try PortraitPreparation.decode(portrait)
        let analysis = try PortraitPreparation.analyze(image, source: portrait)
        return (try PortraitPreparation.avatar(from: image, analysis: analysis, source: portrait), "demo")
    }
}
