import Foundation
import ParlaMedia
import ParlaRuntime
import ParlaTestSupport
import XCTest

/// Raw PCM streams alone (no engine): format parsing, chunking invariance, underruns as silence, the socket and
/// FIFO endpoints.
final class PCMStreamTests: XCTestCase {
    func testFormatParsing() throws {
        let f = try PCMStreamFormat(parsing: "s16le:22050:1")
        XCTAssertEqual(f, try PCMStreamFormat(sample: .s16le, sampleRate: 22050, channels: 1))
        XCTAssertEqual(f.frameBytes, 2)
        XCTAssertEqual(try PCMStreamFormat(parsing: "F32LE:48000:2").frameBytes, 8)
        let cases: [(String, String)] = [
            ("s16le:22050", "expected FORMAT:RATE:CHANNELS"),
            ("s16:22050:1", "sample format 's16' is not one of u8, s8, s16le"),
            ("s16le:fast:1", "rate 'fast' is not a whole number"),
            ("s16le:1000:1", "1000 Hz is outside 4000…384000 Hz"),
            ("s16le:16000:0", "channel count 0 is outside 1…16"),
            ("s16le:16000:x", "channels 'x' is not a whole number"),
            ("", "expected FORMAT:RATE:CHANNELS"),
        ]
        for (text, fragment) in cases {
            XCTAssertThrowsError(try PCMStreamFormat(parsing: text), text) { XCTAssertTrue("\($0)".contains(fragment), "\(text): \($0)") }
        }
    }

    /// Channel `c` of frame `s`: the signal, halved, negated, … so channels are told apart.
    func channelValue(_ s: Float, _ c: Int) -> Float { (c % 2 == 0 ? s : -s) / Float(c + 1) }

    /// Bytes of `samples` (in [-1, 1]) in `format`, channel c carrying ``channelValue(_:_:)``.
    func encode(_ samples: [Float], _ format: PCMSampleFormat, channels: Int) -> [UInt8] {
        var out = [UInt8]()
        for frame in samples {
            for c in 0..<channels {
                let s = channelValue(frame, c)
                switch format {
                case .u8: out.append(UInt8(clamping: Int((s * 127).rounded()) + 128))
                case .s8: out.append(UInt8(bitPattern: Int8(clamping: Int((s * 127).rounded()))))
                case .s16le: withUnsafeBytes(of: Int16(clamping: Int((s * 32767).rounded())).littleEndian) { out += $0 }
                case .s16be: withUnsafeBytes(of: Int16(clamping: Int((s * 32767).rounded())).bigEndian) { out += $0 }
                case .s24le:
                    let v = Int32(clamping: Int((s * 8_388_607).rounded()))
                    withUnsafeBytes(of: v.littleEndian) { out += $0.prefix(3) }
                case .s32le: withUnsafeBytes(of: Int32(clamping: Int((Double(s) * 2_147_483_647).rounded())).littleEndian) { out += $0 }
                case .s32be: withUnsafeBytes(of: Int32(clamping: Int((Double(s) * 2_147_483_647).rounded())).bigEndian) { out += $0 }
                case .f32le: withUnsafeBytes(of: s.bitPattern.littleEndian) { out += $0 }
                case .f32be: withUnsafeBytes(of: s.bitPattern.bigEndian) { out += $0 }
                }
            }
        }
        return out
    }

    func testEveryFormatDecodesAndChunkingNeverChangesTheResult() throws {
        var rng = SeededGenerator(seed: 7)
        let rates = [16000, 22050, 44100, 8000, 48000]
        for (k, sample) in PCMSampleFormat.allCases.enumerated() {
            let rate = rates[k % rates.count], channels = 1 + k % 3
            let count = 3001 + k * 17   // odd sizes on purpose
            let signal = (0..<count).map { i in Float(0.5 * sin(Double(i) * 0.05)) }
            let bytes = encode(signal, sample, channels: channels)
            let format = try PCMStreamFormat(sample: sample, sampleRate: rate, channels: channels)

            // The frames as sent, every channel kept, at the stream's own rate (what is played; the analysis copy is
            // made downstream).
            var whole = PCMStreamDecoder(format: format)
            let reference = whole.push(bytes)
            XCTAssertEqual(reference.count, count * channels, "\(format)")
            let tolerance: Float = sample.bytes == 1 ? 1.0 / 100 : 1.0 / 16000
            for i in 0..<count {
                for c in 0..<channels {
                    XCTAssertEqual(reference[i * channels + c], channelValue(signal[i], c), accuracy: tolerance, "\(format) frame \(i) channel \(c)")
                }
            }
            // Random chunk sizes, including 0 and 1 byte and splits inside a frame.
            for _ in 0..<3 {
                var d = PCMStreamDecoder(format: format)
                var out = [Float]()
                var offset = 0
                while offset < bytes.count {
                    let n = min(bytes.count - offset, Int.random(in: 0...97, using: &rng))
                    bytes[offset..<(offset + n)].withUnsafeBytes { d.push($0, into: &out) }
                    offset += n
                }
                XCTAssertEqual(out, reference, "\(format): chunking changed the samples")
            }
        }
    }

    func testUnderrunGivesSilenceAndCountsIt() {
        let q = PCMSampleQueue(capacity: 1000)
        q.write([0.5, 0.25, -0.5])
        XCTAssertEqual(q.take(2), [0.5, 0.25])
        XCTAssertEqual(q.take(4), [-0.5, 0, 0, 0], "what is missing is silence")
        XCTAssertEqual(q.underruns, 1)
        XCTAssertEqual(q.silentSamples, 3)
        XCTAssertEqual(q.take(3), [0, 0, 0])
        XCTAssertEqual(q.underruns, 2)
        q.write([1])
        q.clear()
        XCTAssertEqual(q.available, 0)
        q.close()
        XCTAssertEqual(q.take(2), [0, 0])
        XCTAssertEqual(q.underruns, 2, "after the end of the stream silence is not an underrun")
        XCTAssertTrue(q.isDrained)
    }

    func testAFullQueueMakesTheWriterWait() {
        let q = PCMSampleQueue(capacity: 4)
        let wrote = DispatchSemaphore(value: 0)
        Thread { q.write([1, 2, 3, 4, 5, 6]); wrote.signal() }.start()
        let deadline = Date().addingTimeInterval(10)
        while q.available < 4 && Date() < deadline { usleep(1000) }
        XCTAssertEqual(q.available, 4)
        XCTAssertEqual(q.take(4), [1, 2, 3, 4])
        XCTAssertEqual(wrote.wait(timeout: .now() + 10), .success, "the writer never finished")
        XCTAssertEqual(q.take(2), [5, 6])
    }

    func testStopEndsAReaderWaitingOnASilentClient() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("idle.sock").path
        let source = try PCMStreamSource(endpoint: .socket(path), format: try PCMStreamFormat(parsing: "s16le:16000:1"))
        source.start()
        let fd = try UnixSocketClient.connect(path)
        defer { close(fd) }
        _ = [UInt8](repeating: 0, count: 64).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        while source.queue.received < 32 { usleep(1000) }
        // The client stays connected and sends nothing more: stop() must still end the reader, not hang in read().
        let stopped = DispatchSemaphore(value: 0)
        Thread { source.stop(); stopped.signal() }.start()
        XCTAssertEqual(stopped.wait(timeout: .now() + 10), .success, "stop() hung on a silent client")
    }

    func testSocketAndFIFOEndpointsDeliverDecodedAudio() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let format = try PCMStreamFormat(parsing: "s16le:16000:1")
        let samples = (0..<1600).map { Float(($0 % 100) - 50) / 64 }
        let bytes = encode(samples, .s16le, channels: 1)

        // UNIX socket: two clients one after the other.
        let path = dir.appendingPathComponent("pcm.sock").path
        let source = try PCMStreamSource(endpoint: .socket(path), format: format)
        source.start()
        for part in [bytes[..<1001], bytes[1001...]] {
            let fd = try UnixSocketClient.connect(path)
            _ = Array(part).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            close(fd)
        }
        while source.queue.available < samples.count { usleep(1000) }
        let got = source.queue.take(samples.count)
        for i in 0..<samples.count { XCTAssertEqual(got[i], samples[i], accuracy: 1.0 / 16000) }
        source.stop()

        // FIFO: created on the spot; two writers one after the other (a writer that closes is not the end).
        let fifo = dir.appendingPathComponent("pcm.fifo").path
        let fromFIFO = try PCMStreamSource(endpoint: .fifo(fifo), format: format)
        fromFIFO.start()
        for part in [bytes[..<777], bytes[777...]] {
            let handle = try XCTUnwrap(FileHandle(forWritingAtPath: fifo))
            handle.write(Data(part))
            try handle.close()
        }
        while fromFIFO.queue.available < samples.count { usleep(1000) }
        let fromPipe = fromFIFO.queue.take(samples.count)
        for i in 0..<samples.count { XCTAssertEqual(fromPipe[i], samples[i], accuracy: 1.0 / 16000) }
        // stop() ends the reader thread while it waits for the next writer (it returns only once the thread is gone).
        fromFIFO.stop()
        XCTAssertTrue(fromFIFO.queue.isClosed)

        // A regular file where the FIFO should be is refused in one line.
        let plain = dir.appendingPathComponent("plain").path
        FileManager.default.createFile(atPath: plain, contents: Data())
        XCTAssertThrowsError(try PCMStreamSource(endpoint: .fifo(plain), format: format)) {
            XCTAssertEqual("\($0)", "--pcm-fifo \(plain): exists and is not a FIFO")
        }
    }
}
