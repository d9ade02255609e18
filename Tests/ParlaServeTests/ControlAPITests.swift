import Foundation
import ParlaFace
import ParlaIO
import ParlaMedia
import ParlaRuntime
import ParlaTestSupport
import XCTest
@testable import ParlaServe

/// The control API over real HTTP on loopback, with the engine running headless (null sink): say, speak,
/// controls, status, queue, barge-in, metrics, OpenAPI, WebSocket, bad and oversize bodies, token, rate limit.
final class ControlAPITests: XCTestCase {
    /// The avatar built once from the fixture portrait (face analysis is the slow part).
    static let avatar: Avatar = {
        let url = Fixtures.url("grace_hopper.jpg")
        let image = try! PortraitPreparation.decode(url)
        return try! PortraitPreparation.avatar(from: image, analysis: PortraitPreparation.analyze(image, source: url), source: url)
    }()

    /// A running engine + server; stopped by `stop()`.
    final class Harness {
        let engine: FaceEngine
        let server: ControlServer
        let client: LoopbackClient
        let stopSignal = StopSignal(handlingSignals: false)
        let engineDone = DispatchSemaphore(value: 0)
        let logLines = LockedLines()

        init(_ configure: (inout ServeOptions) -> Void = { _ in },
             engine configureEngine: (inout FaceEngine.Configuration) -> Void = { _ in }) throws {
            var config = FaceEngine.Configuration()
            config.size = 64
            config.fps = 25
            config.idleSeconds = 2
            configureEngine(&config)
            engine = try FaceEngine(configuration: config, avatar: ControlAPITests.avatar, name: "grace")
            var options = ServeOptions()
            options.port = 0
            configure(&options)
            let lines = logLines
            server = try ControlServer(engine: engine, options: options, log: ServeLog(level: .info, sink: { lines.append($0) }))
            let engine = self.engine, stop = stopSignal, done = engineDone
            Thread { try? engine.run(stop: stop); done.signal() }.start()
            let server = self.server
            Task { try? await server.run() }
            let portBox = LockedLines()
            let ready = DispatchSemaphore(value: 0)
            Task {
                if let p = try? await server.waitUntilListening() { portBox.append("\(p)") }
                ready.signal()
            }
            ready.wait()
            guard let port = portBox.all.first.flatMap(UInt16.init) else { throw NSError(domain: "server did not listen", code: 0) }
            client = LoopbackClient(port: port)
        }

        func stop() {
            stopSignal.trigger()
            engineDone.wait()
            let done = DispatchSemaphore(value: 0)
            let server = self.server
            Task { await server.stop(); done.signal() }
            done.wait()
        }

        /// Polls GET /status until `condition` holds (at most ~10 s; then returns the last status).
        func waitForStatus(_ condition: ([String: Any]) -> Bool) throws -> [String: Any] {
            var last: [String: Any] = [:]
            for _ in 0..<200 {
                last = try client.request("GET", "/status").json
                if condition(last) { return last }
                usleep(50_000)
            }
            return last
        }
    }

    final class LockedLines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
    }

    func tone(seconds: Double, rate: Int) -> AudioBuffer {
        let count = Int(seconds * Double(rate))
        let samples: [Float] = (0..<count).map { (i: Int) -> Float in
            let t: Double = Double(i) / Double(rate)
            let carrier: Double = sin(2 * Double.pi * 180 * t)
            let envelope: Double = 0.6 + 0.4 * sin(2 * Double.pi * 3 * t)
            return Float(0.3 * carrier * envelope)
        }
        return AudioBuffer(sampleRate: rate, samples: samples)
    }

    func testSayQueuesSpeaksAndBargeInCutsIt() throws {
        let h = try Harness()
        defer { h.stop() }
        let c = h.client
        let first = try c.json("POST", "/say", ["text": "This announcement is long enough to be playing when the next ones arrive."])
        XCTAssertEqual(first.status, 202, first.text)
        XCTAssertEqual(first.json["id"] as? Int, 1)
        XCTAssertGreaterThan(first.json["duration"] as? Double ?? 0, 2)
        let speaking = try h.waitForStatus { $0["speaking"] as? Bool == true }
        XCTAssertEqual(speaking["utterance"] as? Int, 1)
        // Hold its clock so it is still current however long the next requests take (debug builds are slow).
        h.engine.isPaused = true
        XCTAssertEqual(try c.json("POST", "/say", ["text": "Two.", "voice": "en-gb"]).status, 202)
        XCTAssertEqual(try c.json("POST", "/say", ["text": "Three."]).status, 202)
        var status = try c.request("GET", "/status").json
        XCTAssertEqual(status["queued"] as? [Int], [2, 3])
        XCTAssertEqual(status["utterance"] as? Int, 1)

        // Barge-in: the new utterance cuts the current one and the queue.
        let cut = try c.json("POST", "/say", ["text": "Stop, listen to me: this is long enough to still play while we queue one more.", "interrupt": true])
        XCTAssertEqual(cut.status, 202)
        status = try h.waitForStatus { $0["utterance"] as? Int == 4 }
        XCTAssertEqual(status["utterance"] as? Int, 4)
        XCTAssertEqual(status["queue"] as? Int, 0)
        XCTAssertEqual(status["utterancesInterrupted"] as? Int, 1)

        // Stop talking now.
        XCTAssertEqual(try c.json("POST", "/say", ["text": "Queued behind."]).status, 202)
        let cleared = try c.request("DELETE", "/queue")
        XCTAssertEqual(cleared.status, 200)
        XCTAssertEqual(cleared.json["cleared"] as? Int, 2)
        status = try c.request("GET", "/status").json
        XCTAssertEqual(status["speaking"] as? Bool, false)
        XCTAssertEqual(status["queue"] as? Int, 0)
        h.engine.isPaused = false
        // The face keeps being drawn while idle.
        let frames = status["framesShown"] as? Int ?? 0
        let later = try h.waitForStatus { ($0["framesShown"] as? Int ?? 0) > frames + 5 }
        XCTAssertGreaterThan(later["framesShown"] as? Int ?? 0, frames + 5)
    }

    func testSpeakTakesWAVAndStreamedRawPCM() throws {
        let h = try Harness()
        defer { h.stop() }
        let c = h.client
        let wav = Data(try WAVFile.encode(tone(seconds: 0.75, rate: 22050)))
        let a = try c.request("POST", "/speak", body: wav, contentType: "audio/wav")
        XCTAssertEqual(a.status, 202, a.text)
        XCTAssertEqual(a.json["duration"] as? Double ?? 0, 0.75, accuracy: 0.01)

        // Raw s16le stereo at 44.1 kHz, sent in uneven chunks with chunked transfer encoding.
        let audio = tone(seconds: 0.5, rate: 44100)
        var pcm = Data()
        for s in audio.samples {
            let v = Int16(s * 32767).littleEndian
            withUnsafeBytes(of: v) { pcm.append(contentsOf: $0) }
            withUnsafeBytes(of: v) { pcm.append(contentsOf: $0) }
        }
        var chunks = [Data]()
        var offset = 0, size = 1
        while offset < pcm.count {
            let n = min(size, pcm.count - offset)
            chunks.append(pcm.subdata(in: offset..<(offset + n)))
            offset += n
            size = size * 3 + 7
        }
        // It goes into the engine's PCM stream as it arrives (not into the queue).
        let b = try c.request("POST", "/speak?format=s16le:44100:2", chunks: chunks)
        XCTAssertEqual(b.status, 200, b.text)
        XCTAssertEqual(b.json["streamed"] as? Double ?? 0, 0.5, accuracy: 0.01)
        XCTAssertEqual(b.json["interrupted"] as? Bool, false)
        XCTAssertEqual(try c.request("GET", "/status").json["streamSeconds"] as? Double ?? 0, 0.5, accuracy: 0.01)

        // Not WAV, no format; a bad format; an empty body.
        XCTAssertEqual(try c.request("POST", "/speak", body: Data("hello".utf8)).status, 415)
        let bad = try c.request("POST", "/speak?format=s16le:44100", body: pcm.prefix(100))
        XCTAssertEqual(bad.status, 400)
        XCTAssertTrue((bad.json["error"] as? String ?? "").contains("FORMAT:RATE:CHANNELS"), bad.text)
        XCTAssertEqual(try c.request("POST", "/speak?format=s16le:16000:1", body: Data()).status, 400)
        XCTAssertEqual(try c.request("POST", "/speak", body: Data("RIFF....WAVEjunkjunk".utf8)).status, 400)
    }

    func testControlsStatusAndAvatar() throws {
        let h = try Harness()
        defer { h.stop() }
        let c = h.client
        let put = try c.json("PUT", "/controls", ["emotion": "happy", "intensity": 0.8, "gazeX": -0.5, "still": true])
        XCTAssertEqual(put.status, 200, put.text)
        XCTAssertEqual(put.json["emotion"] as? String, "happy")
        XCTAssertEqual(put.json["still"] as? Bool, true)
        // A second PUT changes only what it names.
        let second = try c.json("PUT", "/controls", ["headDistance": 1.5])
        XCTAssertEqual(second.json["emotion"] as? String, "happy")
        XCTAssertEqual(second.json["headDistance"] as? Double, 1.5)
        let status = try c.request("GET", "/status").json
        XCTAssertEqual((status["controls"] as? [String: Any])?["gazeX"] as? Double, -0.5)
        XCTAssertEqual(status["avatar"] as? String, "grace")
        XCTAssertEqual(status["sink"] as? String, "null")

        for (body, fragment) in [(["intensity": 3], "intensity"), (["emotion": "bored"], "bad control value"),
                                 (["smile": 1], "unknown control 'smile'"), (["gazeY": "up"], "bad control value")] as [([String: Any], String)] {
            let r = try c.json("PUT", "/controls", body)
            XCTAssertEqual(r.status, 400, "\(body)")
            XCTAssertTrue((r.json["error"] as? String ?? "").contains(fragment), r.text)
        }
        XCTAssertEqual(try c.request("GET", "/controls").json["emotion"] as? String, "happy", "a refused change changes nothing")

        // Avatar switch: by path (a file written here) and as an uploaded body; a broken file is refused.
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("second.avatar")
        try AvatarFile.write(ControlAPITests.avatar, to: file)
        let byPath = try c.json("POST", "/avatar", ["path": file.path, "fade": 0.3])
        XCTAssertEqual(byPath.status, 200, byPath.text)
        XCTAssertEqual(byPath.json["avatar"] as? String, "second.avatar")
        let upload = try c.request("POST", "/avatar?fade=0", body: try Data(contentsOf: file), contentType: "application/octet-stream")
        XCTAssertEqual(upload.status, 200, upload.text)
        XCTAssertEqual(upload.json["avatar"] as? String, "uploaded")
        XCTAssertEqual(try c.request("POST", "/avatar", body: Data("not an avatar".utf8), contentType: "application/octet-stream").status, 422)
        XCTAssertEqual(try c.json("POST", "/avatar", ["path": dir.appendingPathComponent("missing.avatar").path]).status, 422)
    }

    func testMalformedAndOversizeBodiesGetJSONErrors() throws {
        let h = try Harness { $0.maximumAudioBytes = 100_000 }
        defer { h.stop() }
        let c = h.client
        let cases: [(String, String, Data, Int)] = [
            ("POST", "/say", Data("not json".utf8), 400),
            ("POST", "/say", Data("{\"txt\": \"hi\"}".utf8), 400),
            ("POST", "/say", Data("{\"text\": 5}".utf8), 400),
            ("POST", "/say", Data("{\"text\": \"  \"}".utf8), 422),
            ("POST", "/say", Data("{\"text\": \"hi\", \"voice\": \"xx-nonesuch\"}".utf8), 422),
            ("POST", "/say", Data("{\"text\": \"hi\", \"rate\": 5}".utf8), 422),
            ("PUT", "/controls", Data("[1,2]".utf8), 400),
            ("GET", "/nowhere", Data(), 404),
            ("GET", "/say", Data(), 405),
            ("POST", "/say", Data(String(repeating: "x", count: 70_000).utf8), 413),
            ("POST", "/speak?format=s16le:16000:1", Data(count: 150_000), 413),
            ("POST", "/speak", Data(count: 150_000), 413),
        ]
        for (method, path, body, status) in cases {
            let r = try c.request(method, path, body: body, contentType: "application/json")
            XCTAssertEqual(r.status, status, "\(method) \(path) \(body.prefix(40)): \(r.text)")
            XCTAssertEqual(r.headers["content-type"], "application/json")
            XCTAssertFalse((r.json["error"] as? String ?? "").isEmpty, r.text)
        }
        // Oversize while streaming (chunked: no Content-Length to refuse up front).
        let streamed = try c.request("POST", "/speak?format=s16le:16000:1", chunks: Array(repeating: Data(count: 30_000), count: 5))
        XCTAssertEqual(streamed.status, 413, streamed.text)
        // Still serving after all that.
        XCTAssertEqual(try c.request("GET", "/status").status, 200)
        XCTAssertTrue(h.logLines.all.contains { $0.contains("413") })
    }

    func testTokenIsRequiredWhenSet() throws {
        let h = try Harness { $0.token = "s3cret-token" }
        defer { h.stop() }
        var c = h.client
        let missing = try c.request("GET", "/status")
        XCTAssertEqual(missing.status, 401)
        XCTAssertEqual(missing.json["error"] as? String, "missing 'Authorization: Bearer TOKEN' header")
        XCTAssertEqual(missing.headers["www-authenticate"], "Bearer")
        c.headers["Authorization"] = "Bearer wrong-token!"
        XCTAssertEqual(try c.request("GET", "/status").status, 401)
        XCTAssertThrowsError(try c.webSocket("/ws"))
        c.headers["Authorization"] = "Bearer s3cret-token"
        XCTAssertEqual(try c.request("GET", "/status").status, 200)
        XCTAssertEqual(try c.json("POST", "/say", ["text": "Authorised."]).status, 202)
    }

    func testOpenBindNeedsAToken() throws {
        var o = ServeOptions()
        try o.setListen("0.0.0.0:8080")
        XCTAssertThrowsError(try o.validate()) { XCTAssertTrue("\($0)".contains("needs --token")) }
        o.token = "long-enough-token"
        XCTAssertNoThrow(try o.validate())
        try o.setListen("[::1]:9000")
        XCTAssertEqual(o.host, "::1")
        XCTAssertEqual(o.port, 9000)
        XCTAssertTrue(o.isLoopback)
        for bad in ["8080", "host:", "127.0.0.1:99999", ":80", "[::1]8080"] {
            XCTAssertThrowsError(try o.setListen(bad), bad)
        }
        o.token = "short"
        XCTAssertThrowsError(try o.validate())
    }

    func testRateLimitRefusesABurstBeyondItsSize() throws {
        let h = try Harness { $0.requestsPerSecond = 0.01; $0.burst = 3 }
        defer { h.stop() }
        let codes = try (0..<5).map { _ in try h.client.request("GET", "/status").status }
        XCTAssertEqual(codes, [200, 200, 200, 429, 429])
        var limiter = RateLimiter(rate: 2, burst: 2)
        XCTAssertEqual((0..<3).map { _ in limiter.allow("a", now: 0) }, [true, true, false])
        XCTAssertTrue(limiter.allow("b", now: 0), "buckets are per client")
        XCTAssertTrue(limiter.allow("a", now: 0.5), "refills at the rate")
        XCTAssertFalse(limiter.allow("a", now: 0.5))
    }

    func testMetricsAndOpenAPI() throws {
        let h = try Harness()
        defer { h.stop() }
        let c = h.client
        XCTAssertEqual(try c.json("POST", "/say", ["text": "Count me."]).status, 202)
        _ = try h.waitForStatus { ($0["utterancesStarted"] as? Int ?? 0) >= 1 && ($0["framesShown"] as? Int ?? 0) > 10 }
        let m = try c.request("GET", "/metrics")
        XCTAssertEqual(m.status, 200)
        XCTAssertTrue(m.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = m.text
        for series in ["parla_fps ", "parla_frame_seconds_bucket{le=\"+Inf\"} ", "parla_frame_seconds_count ", "parla_lag_seconds ",
                       "parla_dropped_frames_total ", "parla_audio_xruns_total 0", "parla_utterances_total{event=\"started\"} 1",
                       "parla_http_requests_total{route=\"POST /say\"} 1", "# TYPE parla_frame_seconds histogram"] {
            XCTAssertTrue(text.contains(series), "missing \(series)")
        }
        // Histogram buckets are cumulative and end at the count.
        let buckets = text.split(separator: "\n").filter { $0.hasPrefix("parla_frame_seconds_bucket") }
            .compactMap { Int($0.split(separator: " ").last!) }
        XCTAssertEqual(buckets, buckets.sorted())
        let count = text.split(separator: "\n").first { $0.hasPrefix("parla_frame_seconds_count") }.flatMap { Int($0.split(separator: " ")[1]) }
        XCTAssertEqual(buckets.last, count)
        XCTAssertGreaterThan(count ?? 0, 10)

        let doc = try c.request("GET", "/openapi.json")
        XCTAssertEqual(doc.status, 200)
        let paths = try XCTUnwrap(doc.json["paths"] as? [String: [String: Any]])
        for route in ControlServer.knownRoutes {
            let parts = route.split(separator: " ")
            XCTAssertNotNil(paths[String(parts[1])]?[parts[0].lowercased()], "\(route) is not in the OpenAPI document")
        }
    }

    func testWebSocketStreamsStatusAndTakesPCMAndBlendshapes() throws {
        let h = try Harness()
        defer { h.stop() }
        let fd = try h.client.webSocket("/ws?format=s16le:16000:1")
        defer { close(fd) }
        let (opcode, payload) = try LoopbackClient.readFrame(fd)
        XCTAssertEqual(opcode, 1)
        let status = try XCTUnwrap(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
        XCTAssertEqual(status["type"] as? String, "status")
        XCTAssertNotNil(status["speaking"])

        // 1.2 s of PCM in 7 uneven binary messages: it goes into the engine's PCM stream as it arrives and the
        // streaming composer drives the face (speaking while it plays); nothing is gathered into utterances.
        let audio = tone(seconds: 1.2, rate: 16000)
        var pcm = Data()
        for s in audio.samples { withUnsafeBytes(of: Int16(s * 32767).littleEndian) { pcm.append(contentsOf: $0) } }
        var offset = 0
        for size in [1, 999, 5000, 12_345, 3, 7777, pcm.count] where offset < pcm.count {
            let n = min(size, pcm.count - offset)
            LoopbackClient.sendFrame(fd, opcode: 2, pcm.subdata(in: offset..<(offset + n)))
            offset += n
        }
        let playing = try h.waitForStatus { ($0["streamSeconds"] as? Double ?? 0) >= 1.2 && $0["speaking"] as? Bool == true }
        XCTAssertEqual(playing["streamSeconds"] as? Double ?? 0, 1.2, accuracy: 1e-9, "every sample of every chunk arrived")
        XCTAssertEqual(playing["speaking"] as? Bool, true)
        XCTAssertEqual(playing["utterancesStarted"] as? Int, 0, "streamed PCM is not buffered into utterances")
        XCTAssertEqual(playing["queue"] as? Int, 0)
        // Once it has played, the stream runs dry and the face idles.
        let idle = try h.waitForStatus { $0["speaking"] as? Bool == false }
        XCTAssertEqual(idle["speaking"] as? Bool, false)
        XCTAssertEqual(idle["utterancesStarted"] as? Int, 0)

        // A blendshape frame from outside, and a bad one (answered with an error message, connection kept).
        LoopbackClient.sendFrame(fd, opcode: 1, Data("{\"type\":\"blendshapes\",\"weights\":{\"jawOpen\":0.7,\"mouthSmileLeft\":0.4},\"headYaw\":0.1}".utf8))
        LoopbackClient.sendFrame(fd, opcode: 1, Data("{\"type\":\"blendshapes\",\"weights\":{\"jawWide\":0.7}}".utf8))
        var sawError = false
        for _ in 0..<20 {
            let (op, data) = try LoopbackClient.readFrame(fd)
            if op == 1, let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any], o["type"] as? String == "error" {
                XCTAssertTrue((o["error"] as? String ?? "").contains("jawWide"))
                sawError = true
                break
            }
        }
        XCTAssertTrue(sawError)
        LoopbackClient.sendFrame(fd, opcode: 1, Data("{\"type\":\"stop\"}".utf8))
        let stopped = try h.waitForStatus { $0["speaking"] as? Bool == false && $0["queue"] as? Int == 0 }
        XCTAssertEqual(stopped["queue"] as? Int, 0)
    }

    // MARK: - Limits that hold under load

    /// Synthesis and composition run on the speech worker, not on the cooperative pool that serves requests: with
    /// more long `/say` requests in flight than the pool has threads (one per core), `/status` still answers at
    /// once. (Run on the pool, they blocked every thread: `/status` waited 11 s for two 3.9 KB texts on 2 cores.)
    func testStatusAnswersWhileLongSpeechIsSynthesized() throws {
        let h = try Harness()
        defer { h.stop() }
        let c = h.client
        // About 4 minutes of speech each (just under the text limit): seconds of synthesis and composition.
        let text = String(repeating: "The museum opens at nine and closes at six, except on public holidays. ", count: 55)
        let n = ProcessInfo.processInfo.activeProcessorCount + 1
        let results = LockedLines()
        let group = DispatchGroup()
        for _ in 0..<n {
            group.enter()
            Thread {
                let r = try? c.json("POST", "/say", ["text": text])
                results.append("\(r?.status ?? 0)")
                group.leave()
            }.start()
        }
        usleep(300_000)
        var slowest = 0.0, polls = 0
        while group.wait(timeout: .now()) == .timedOut {
            let start = Date()
            XCTAssertEqual(try c.request("GET", "/status").status, 200)
            slowest = max(slowest, Date().timeIntervalSince(start))
            polls += 1
            usleep(100_000)
        }
        XCTAssertGreaterThan(polls, 3, "the requests ended before /status was measured")
        // Well above a normal answer (milliseconds) for a loaded 2-core machine, far below a synthesis.
        XCTAssertLessThan(slowest, 3, "GET /status took \(slowest) s while \(n) /say requests were synthesized")
        XCTAssertTrue(results.all.contains("202"), "\(results.all)")
        XCTAssertTrue(results.all.allSatisfy { $0 == "202" || $0 == "429" }, "\(results.all)")
    }

    /// One utterance is capped in text and in length, the queue in seconds of audio held: each refusal is a JSON
    /// error naming the limit, before the audio is composed (or, for text, as soon as synthesis passes the cap).
    func testUtteranceAndQueueLimits() throws {
        let h = try Harness({
            $0.maximumUtteranceSeconds = 1.5
            $0.maximumTextBytes = 200
        }, engine: { $0.maximumQueueSeconds = 2 })
        defer { h.stop() }
        let c = h.client
        func wav(_ seconds: Double) throws -> Data { Data(try WAVFile.encode(tone(seconds: seconds, rate: 22050))) }
        let long = try c.request("POST", "/speak", body: try wav(2), contentType: "audio/wav")
        XCTAssertEqual(long.status, 413, long.text)
        XCTAssertTrue((long.json["error"] as? String ?? "").contains("1.5 s limit"), long.text)

        // The first one plays (held by the pause), the second would make 2.4 s held: refused until it drains.
        XCTAssertEqual(try c.request("POST", "/speak", body: try wav(1.2), contentType: "audio/wav").status, 202)
        _ = try h.waitForStatus { $0["speaking"] as? Bool == true }
        h.engine.isPaused = true
        let full = try c.request("POST", "/speak", body: try wav(1.2), contentType: "audio/wav")
        XCTAssertEqual(full.status, 429, full.text)
        XCTAssertTrue((full.json["error"] as? String ?? "").contains("2 s limit"), full.text)
        XCTAssertEqual(full.headers["retry-after"], "1")
        XCTAssertEqual(try c.request("POST", "/speak", body: try wav(0.5), contentType: "audio/wav").status, 202, "what fits is taken")
        let fullSay = try c.json("POST", "/say", ["text": "Hello there."])
        XCTAssertEqual(fullSay.status, 429, fullSay.text)
        // A barge-in drops what is held, so it fits.
        XCTAssertEqual(try c.request("POST", "/speak?interrupt=1", body: try wav(1.2), contentType: "audio/wav").status, 202)
        h.engine.isPaused = false
        XCTAssertEqual(try c.request("DELETE", "/queue").status, 200)

        let wordy = try c.json("POST", "/say", ["text": String(repeating: "word ", count: 50)])
        XCTAssertEqual(wordy.status, 413, wordy.text)
        XCTAssertTrue((wordy.json["error"] as? String ?? "").contains("200-byte limit"), wordy.text)
        let slow = try c.json("POST", "/say", ["text": "This sentence takes far longer than one and a half seconds to say.", "rate": 80])
        XCTAssertEqual(slow.status, 413, slow.text)
        XCTAssertTrue((slow.json["error"] as? String ?? "").contains("more than 1.5 s"), slow.text)
        // The synthesizer stopped cleanly: the next text is spoken whole.
        let short = try c.json("POST", "/say", ["text": "Yes."])
        XCTAssertEqual(short.status, 202, short.text)
        XCTAssertGreaterThan(short.json["duration"] as? Double ?? 0, 0.2)
    }

    /// The queue is capped in memory too: the sound is kept at its own rate and channels beside the 16 kHz copy, so
    /// a second of 48 kHz stereo keeps six times what a second of 16 kHz mono does.
    func testQueueMemoryLimit() throws {
        // 1.2 s of 48 kHz stereo keeps (115 200 + 19 200) × 4 bytes and its frames, 0.55 MB: once fits in 0.75 MiB,
        // twice not; 1.2 s of 16 kHz mono (0.16 MB) fits beside it.
        let h = try Harness(engine: { $0.maximumQueueBytes = 786_432 })
        defer { h.stop() }
        let c = h.client
        var wav = Data()
        func put(_ v: Int, _ n: Int) { for i in 0..<n { wav.append(UInt8((v >> (8 * i)) & 0xFF)) } }
        let samples = tone(seconds: 1.2, rate: 48000).samples
        wav.append(contentsOf: Array("RIFF".utf8)); put(36 + samples.count * 4, 4); wav.append(contentsOf: Array("WAVEfmt ".utf8))
        put(16, 4); put(1, 2); put(2, 2); put(48000, 4); put(48000 * 4, 4); put(4, 2); put(16, 2)
        wav.append(contentsOf: Array("data".utf8)); put(samples.count * 4, 4)
        for s in samples { let v = Int(Int16(s * 32767)); put(v, 2); put(v, 2) }
        XCTAssertEqual(try c.request("POST", "/speak", body: wav, contentType: "audio/wav").status, 202)
        _ = try h.waitForStatus { $0["speaking"] as? Bool == true }
        h.engine.isPaused = true
        let full = try c.request("POST", "/speak", body: wav, contentType: "audio/wav")
        XCTAssertEqual(full.status, 429, full.text)
        XCTAssertTrue((full.json["error"] as? String ?? "").contains("0.75 MiB limit"), full.text)
        // The same length at 16 kHz mono fits beside it.
        XCTAssertEqual(try c.request("POST", "/speak", body: Data(try WAVFile.encode(tone(seconds: 1.2, rate: 16000))), contentType: "audio/wav").status, 202)
        h.engine.isPaused = false
    }

    /// Raw PCM in `POST /speak` is played while it uploads: the face speaks before the upload ends; a second
    /// upload at the same time is refused; `DELETE /queue` silences the rest of it.
    func testRawPCMSpeakPlaysWhileItUploads() throws {
        let h = try Harness()
        defer { h.stop() }
        let c = h.client
        // 3 s of speech-like tone at 16 kHz, sent in 0.1 s pieces at the pace it plays.
        let audio = tone(seconds: 3, rate: 16000)
        var pcm = Data()
        for s in audio.samples { withUnsafeBytes(of: Int16(s * 32767).littleEndian) { pcm.append(contentsOf: $0) } }
        let chunks = stride(from: 0, to: pcm.count, by: 3200).map { pcm.subdata(in: $0..<min($0 + 3200, pcm.count)) }
        let done = DispatchSemaphore(value: 0)
        let finished = LockedLines()
        let upload = LockedLines()
        Thread {
            let r = try? c.request("POST", "/speak?format=s16le:16000:1", chunks: chunks, pace: 0.1)
            finished.append("done")
            upload.append(r.map { $0.text } ?? "no response")
            done.signal()
        }.start()
        let speaking = try h.waitForStatus { $0["speaking"] as? Bool == true }
        let stillUploading = finished.all.isEmpty
        XCTAssertEqual(speaking["speaking"] as? Bool, true)
        XCTAssertTrue(stillUploading, "the face started speaking only after the upload ended")
        XCTAssertEqual(speaking["utterancesStarted"] as? Int, 0, "streamed, not queued")

        let second = try c.request("POST", "/speak?format=s16le:16000:1", body: pcm.prefix(3200))
        XCTAssertEqual(second.status, 409, second.text)
        XCTAssertEqual(try c.request("DELETE", "/queue").status, 200)
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(upload.all[0].utf8)) as? [String: Any], upload.all[0])
        XCTAssertEqual(result["interrupted"] as? Bool, true)
        XCTAssertLessThan(result["streamed"] as? Double ?? 3, 3, "the rest of the upload was dropped")
        XCTAssertEqual(try h.waitForStatus { $0["speaking"] as? Bool == false }["speaking"] as? Bool, false)
    }

    /// A WebSocket frame is refused while it is read, by the length in its header: the connection is closed with
    /// 1009 long before the 300 MiB it announces arrive; fragments adding up past the limit too.
    func testWebSocketMessageOverTheLimitClosesWith1009() throws {
        let h = try Harness { $0.maximumWebSocketBytes = 100_000 }
        defer { h.stop() }
        /// Reads frames (status pushes) until a close frame; returns its code, or nil after `seconds`.
        func closeCode(_ fd: Int32, within seconds: Double) -> UInt16? {
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                guard let (op, data) = try? LoopbackClient.readFrame(fd) else { return nil }
                if op == 8 { return data.count >= 2 ? UInt16(data[data.startIndex]) << 8 | UInt16(data[data.startIndex + 1]) : 0 }
            }
            return nil
        }
        let fd = try h.client.webSocket("/ws?format=s16le:16000:1")
        defer { close(fd) }
        // The header of a 300 MiB binary frame, then 200 kB of its payload.
        let frameStart: [UInt8] = [0x82, 0x80 | 127]    // FIN + binary; masked, a 64-bit length follows
        var head = Data(frameStart)
        for shift in stride(from: 56, through: 0, by: -8) { head.append(UInt8(truncatingIfNeeded: (300 << 20) >> shift)) }
        head.append(contentsOf: [1, 2, 3, 4])
        LoopbackClient.send(fd, head + Data(count: 200_000))
        XCTAssertEqual(closeCode(fd, within: 15), 1009)

        // Fragments of 30 kB: the fourth passes 100 kB.
        let fragmented = try h.client.webSocket("/ws?format=s16le:16000:1")
        defer { close(fragmented) }
        LoopbackClient.sendFrame(fragmented, opcode: 2, Data(count: 30_000), fin: false)
        for _ in 0..<3 { LoopbackClient.sendFrame(fragmented, opcode: 0, Data(count: 30_000), fin: false) }
        XCTAssertEqual(closeCode(fragmented, within: 15), 1009)

        // A message within the limit is taken as before.
        let fine = try h.client.webSocket("/ws?format=s16le:16000:1")
        defer { close(fine) }
        LoopbackClient.sendFrame(fine, opcode: 2, Data(count: 64_000))
        let status = try h.waitForStatus { ($0["streamSeconds"] as? Double ?? 0) >= 2 }
        XCTAssertEqual(status["streamSeconds"] as? Double ?? 0, 2, accuracy: 1e-9)
        XCTAssertEqual(try h.client.request("GET", "/status").status, 200)
    }

    /// Every connection the server accepts has TCP_NODELAY set: with Nagle on, a kept-alive request waited for
    /// the client's delayed ACK (~44 ms each; Tools/bench-serve-requests measures it).
    func testAcceptedConnectionsHaveNoDelay() throws {
        let h = try Harness()
        defer { h.stop() }
        let fd = try LoopbackClient.connect(port: h.client.port)
        defer { close(fd) }
        for _ in 0..<2 {
            LoopbackClient.send(fd, Data("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
            var data = Data()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while LoopbackClient.parse(data)?.complete != true {
                let n = recv(fd, &buffer, buffer.count, 0)
                guard n > 0 else { break }
                data.append(contentsOf: buffer[0..<n])
            }
            XCTAssertEqual(LoopbackClient.parse(data)?.response.status, 200)
        }
        // The server's end of this connection, in this process: local port = the server's, peer port = ours.
        var mine = sockaddr_in(), length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &mine) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap { Int32($0) }
        var found = false
        for other in fds where other != fd {
            var local = sockaddr_in(), peer = sockaddr_in()
            var l1 = socklen_t(MemoryLayout<sockaddr_in>.size), l2 = l1
            let a = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(other, $0, &l1) } }
            let b = withUnsafeMutablePointer(to: &peer) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(other, $0, &l2) } }
            guard a == 0, b == 0, local.sin_family == sa_family_t(AF_INET), UInt16(bigEndian: local.sin_port) == h.client.port,
                  peer.sin_port == mine.sin_port else { continue }
            var value: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            XCTAssertEqual(getsockopt(other, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &size), 0)
            XCTAssertEqual(value, 1, "TCP_NODELAY is off on the server's socket")
            found = true
        }
        XCTAssertTrue(found, "the server's end of the connection was not found")
    }
}
