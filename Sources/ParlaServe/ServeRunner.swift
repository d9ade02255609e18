import Foundation
import ParlaFace
import ParlaIO
import ParlaRuntime

/// `parla serve` end to end: the engine's render loop on a thread of its own, the control API on Swift's
/// concurrency pool, both stopped by SIGINT/SIGTERM (systemd's stop).
public enum ServeRunner {
    /// Runs until a stop signal; throws a one-line error when the address cannot be bound.
    public static func run(engine: FaceEngine, options: ServeOptions, log: ServeLog) throws {
        // A missing display fails here, in one line, before anything listens.
        if engine.configuration.sink == .kms {
            _ = try engine.configuration.card.map { try DRMCard(path: $0, master: false, atomic: true) }
                ?? DRMCard.find(connector: nil, master: false, atomic: true)
        }
        let server = try ControlServer(engine: engine, options: options, log: log)
        let stop = StopSignal(handlingSignals: true)
        let engineDone = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var engineError: Error?
        let thread = Thread {
            do { try engine.run(stop: stop) } catch { engineError = error }
            stop.trigger()
            engineDone.signal()
        }
        thread.name = "parla-engine"
        thread.start()

        let serverDone = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var serverError: Error?
        let task = Task {
            do { try await server.run() } catch { serverError = error }
            stop.trigger()
            serverDone.signal()
        }
        Task {
            if let port = try? await server.waitUntilListening() {
                log.log(.info, "listening on \(options.host):\(port)\(options.token == nil ? "" : " (bearer token required)"), sink \(engine.configuration.sink.rawValue), \(engine.configuration.size)x\(engine.configuration.size) at \(Int(engine.configuration.fps)) fps")
            }
        }
        while !stop.wait(seconds: 60) {}
        log.log(.info, "stopping")
        Task { await server.stop() }
        _ = serverDone.wait(timeout: .now() + 3)
        task.cancel()
        engineDone.wait()
        if let engineError { throw engineError }
        if let serverError { throw serverError }
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
