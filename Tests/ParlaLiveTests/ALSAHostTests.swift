import Foundation
import ParlaTestSupport
import XCTest
@testable import ParlaIO

/// Runs the real ALSA code without a sound card: PCMs of the `file` plugin (over the `null` plugin) defined in a
/// configuration this test writes and points `ALSA_CONFIG_PATH` at. alsa-lib re-reads that variable on every
/// open, so this affects only PCMs opened afterwards in this process.
final class ALSAHostTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try Fixtures.temporaryDirectory()
        let conf = """
        pcm.parla_out {
            type file
            slave.pcm { type null }
            file "\(directory.appendingPathComponent("out.raw").path)"
            format "raw"
            hint { show on description "Parla test output" }
        }
        pcm.parla_in {
            type file
            slave.pcm { type null }
            file "\(directory.appendingPathComponent("unused.raw").path)"
            infile "\(directory.appendingPathComponent("in.raw").path)"
            format "raw"
        }
        """
        let url = directory.appendingPathComponent("asound.conf")
        try conf.write(to: url, atomically: true, encoding: .utf8)
        setenv("ALSA_CONFIG_PATH", url.path, 1)
    }

    override func tearDownWithError() throws {
        unsetenv("ALSA_CONFIG_PATH")
        try? FileManager.default.removeItem(at: directory)
    }

    func readInt16(_ name: String) throws -> [Int16] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return data.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
    }

    func testPlaybackWritesEverySampleAndReportsTheClock() throws {
        let samples = (0..<6_615).map { Int16(truncatingIfNeeded: $0 &* 37) }
        do {
            let playback = try ALSAPlayback(device: "parla_out", sampleRate: 22_050, channels: 1)
            XCTAssertEqual(playback.sampleRate, 22_050)
            XCTAssertEqual(playback.channels, 1)
            XCTAssertEqual(Double(playback.periodFrames), 220.5, accuracy: 2, "about 10 ms")
            XCTAssertGreaterThanOrEqual(playback.bufferFrames, 4 * playback.periodFrames)
            let result = try samples.withUnsafeBufferPointer { try playback.write($0) }
            XCTAssertEqual(result, PCMWriteResult(frames: 6_615, underruns: 0))
            let clock = playback.clockSample()
            XCTAssertEqual(clock.framesWritten, 6_615)
            XCTAssertGreaterThanOrEqual(clock.delayFrames, 0)
            XCTAssertLessThanOrEqual(clock.delayFrames, playback.bufferFrames)
            let position = AudioPresentationClock.position(of: clock, sampleRate: playback.sampleRate, at: clock.time)
            XCTAssertLessThanOrEqual(position, 0.3 + 1e-9)
            playback.drain()
        }
        XCTAssertEqual(try readInt16("out.raw"), samples)
    }

    func testCaptureReadsWhatTheDeviceDelivers() throws {
        let recorded = (0..<4_000).map { Int16(truncatingIfNeeded: 1000 - $0 * 3) }
        try recorded.withUnsafeBytes { try Data($0).write(to: directory.appendingPathComponent("in.raw")) }
        let capture = try ALSACapture(device: "parla_in", sampleRate: 16_000, channels: 1)
        XCTAssertEqual(capture.sampleRate, 16_000)
        XCTAssertEqual(capture.periodFrames, 160)
        XCTAssertEqual(capture.format, .s16le, "16-bit is asked for first")
        let expected = recorded.map { Float($0) / 32_768 }
        var buffer = [Float](repeating: 0, count: 480)
        try buffer.withUnsafeMutableBufferPointer { XCTAssertEqual(try capture.read(into: $0), 480) }
        XCTAssertEqual(buffer, Array(expected.prefix(480)))
        try buffer.withUnsafeMutableBufferPointer { _ = try capture.read(into: $0) }
        XCTAssertEqual(buffer, Array(expected[480..<960]))
        XCTAssertEqual(capture.framesRead, 960)
        XCTAssertEqual(capture.overruns, 0)
        XCTAssertGreaterThanOrEqual(capture.captureDelay(), 0)
    }

    func testListsConfiguredDevicesAndNamesMissingOnes() throws {
        let names = ALSADeviceList.playbackDevices().map(\.name)
        XCTAssertTrue(names.contains("parla_out"), "\(names)")
        XCTAssertThrowsError(try ALSAPlayback(device: "parla_missing", sampleRate: 16_000)) { error in
            XCTAssertTrue("\(error)".hasPrefix("ALSA playback device 'parla_missing': snd_pcm_open: "), "\(error)")
            XCTAssertEqual((error as? AudioDeviceError)?.errno, ENOENT)
        }
    }
}
