import FlyingFox
import Foundation
import ParlaMedia
import ParlaMotion
import ParlaRuntime

/// The `/ws` WebSocket. The server sends the status as JSON (`{"type":"status", …}`) twice a second. The client may
/// send:
/// - binary messages: raw PCM in the format given at connect time (`/ws?format=s16le:16000:1`), chunks of any
///   size, sent at the pace they should play: they go into the engine's PCM stream (``FaceEngine/streamQueue()``)
///   and through the streaming composer as they arrive, so the face speaks about 120 ms behind them; when they
///   stop, the face idles. More than the stream queue holds (10 s ahead of real time) is refused with an error;
///   a message over ``ServeOptions/maximumWebSocketBytes`` (text: ``ServeOptions/maximumJSONBytes``) closes the
///   connection with 1009, checked while its frames are read (``LimitedWebSocket``);
/// - `{"type":"blendshapes","weights":{"jawOpen":0.4,…},"headPitch":0,"headYaw":0.1,"headRoll":0}`: an ARKit frame
///   from an outside model, shown instead of the composed face for a quarter second;
/// - `{"type":"stop"}` (clear the queue and the stream, like `DELETE /queue`).
/// Bad messages get `{"type":"error","error":"…"}` and the connection stays open.
struct StreamSocket: WSMessageHandler {
    let server: ControlServer
    let format: PCMStreamFormat

    func makeMessages(for client: AsyncStream<WSMessage>) async throws -> AsyncStream<WSMessage> {
        let (out, continuation) = AsyncStream<WSMessage>.makeStream()
        let engine = server.engine
        let server = self.server
        let format = self.format
        let status = Task {
            while !Task.isCancelled {
                if let text = Self.statusText(engine.status()) { continuation.yield(.text(text)) }
                try? await Task.sleep(nanoseconds: 500_000_000)
            }
        }
        Task {
            var decoder = PCMStreamDecoder(format: format)
            var pending = [Float]()
            /// Hands the decoded samples to the engine's stream; refuses what would not fit (a producer running
            /// far ahead of real time) instead of blocking the connection.
            func feed() {
                guard !pending.isEmpty else { return }
                defer { pending.removeAll(keepingCapacity: true) }
                do {
                    let queue = try engine.streamQueue(sampleRate: format.sampleRate, channels: format.channels)
                    guard queue.available + pending.count <= queue.capacity else {
                        let ahead = Double(queue.capacity / queue.channels) / Double(queue.sampleRate)
                        continuation.yield(.text(Self.errorText("PCM dropped: the stream would be more than \(Int(ahead)) s ahead of real time; send it at the pace it plays")))
                        return
                    }
                    queue.write(pending)
                } catch {
                    continuation.yield(.text(Self.errorText("\(error)")))
                }
            }
            for await message in client {
                switch message {
                case .data(let data):
                    data.withUnsafeBytes { decoder.push($0, into: &pending) }
                    feed()
                case .text(let text):
                    if let error = Self.handle(text: text, engine: engine, limit: server.options.maximumJSONBytes) {
                        continuation.yield(.text(Self.errorText(error)))
                    }
                case .close:
                    break
                }
            }
            feed()
            status.cancel()
            continuation.finish()
        }
        return out
    }

    /// Acts on one text message; returns an error line for a bad one.
    static func handle(text: String, engine: FaceEngine, limit: Int) -> String? {
        guard text.utf8.count <= limit else { return "message larger than \(limit) bytes" }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
              let type = object["type"] as? String else {
            return "expected a JSON object with a \"type\" (blendshapes, stop)"
        }
        switch type {
        case "stop":
            engine.clear()
        case "blendshapes":
            guard let weights = object["weights"] as? [String: Any] else { return "blendshapes: missing \"weights\" object" }
            var frame = MotionFrame(time: 0)
            for (name, value) in weights {
                guard let shape = Blendshape(name: name) else { return "blendshapes: '\(name)' is not an ARKit blendshape name" }
                guard let v = (value as? NSNumber)?.floatValue, v.isFinite else { return "blendshapes: '\(name)' is not a number" }
                frame.blendshapes[shape] = v
            }
            for (key, path) in [("headPitch", \MotionFrame.headPitch), ("headYaw", \.headYaw), ("headRoll", \.headRoll)] {
                guard let raw = object[key] else { continue }
                guard let v = (raw as? NSNumber)?.floatValue, v.isFinite, abs(v) <= 1.5 else { return "blendshapes: \(key) must be radians within ±1.5" }
                frame[keyPath: path] = v
            }
            engine.pushExternal(frame)
        default:
            return "unknown message type '\(type)' (blendshapes, stop)"
        }
        return nil
    }

    static func statusText(_ status: EngineStatus) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(status),
              var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
        object["type"] = "status"
        guard let out = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return nil }
        return String(decoding: out, as: UTF8.self)
    }

    static func errorText(_ message: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: ["type": "error", "error": message], options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
