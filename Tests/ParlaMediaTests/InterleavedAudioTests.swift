import Foundation
import ParlaTestSupport
import XCTest
@testable import ParlaMedia

/// The played copy of audio: WAV channels kept, channel mapping, and the streaming conversion to a device's rate and
/// channels against the offline one.
final class InterleavedAudioTests: XCTestCase {
    func testWAVKeepsItsChannelsAndTheMonoReadIsTheirAverage() throws {
        // 3 channels of 16-bit PCM at 44.1 kHz, written by hand.
        let frames = 101
        var samples = [Int16]()
        for f in 0..<frames { samples += [Int16(f * 100), Int16(-f * 50), Int16(f % 7 * 1000)] }
        var bytes = [UInt8]()
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { bytes += $0 } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { bytes += $0 } }
        bytes += Array("RIFF".utf8); u32(36 + samples.count * 2); bytes += Array("WAVEfmt ".utf8); u32(16); u16(1); u16(3)
        u32(44_100); u32(44_100 * 6); u16(6); u16(16); bytes += Array("data".utf8); u32(samples.count * 2)
        for s in samples { withUnsafeBytes(of: s.littleEndian) { bytes += $0 } }

        let audio = try WAVFile.readInterleaved(data: bytes, name: "three.wav")
        XCTAssertEqual(audio.sampleRate, 44_100)
        XCTAssertEqual(audio.channels, 3)
        XCTAssertEqual(audio.frameCount, frames)
        XCTAssertEqual(audio.samples, samples.map { Float($0) / 32_768 })
        XCTAssertEqual(audio.channel(1), (0..<frames).map { Float(-$0 * 50) / 32_768 })
        let mono = try WAVFile.read(data: bytes, name: "three.wav")
        XCTAssertEqual(audio.mixedToMono().samples.count, mono.samples.count)
        for (a, b) in zip(audio.mixedToMono().samples, mono.samples) { XCTAssertEqual(a, b, accuracy: 1e-7) }
    }

    func testChannelMap() {
        func map(_ x: [Float], _ from: Int, _ to: Int) -> [Float] {
            var out: [Float] = [9]
            x.withUnsafeBufferPointer { ChannelMap.remap($0, from: from, to: to, appendingTo: &out) }
            XCTAssertEqual(out.first, 9, "appends")
            return Array(out.dropFirst())
        }
        XCTAssertEqual(map([1, 2], 1, 2), [1, 1, 2, 2], "mono on every channel")
        XCTAssertEqual(map([1, 3, -2, 0], 2, 1), [2, -1], "the average")
        XCTAssertEqual(map([1, 2, 3, 4], 2, 4), [1, 2, 1, 2, 3, 4, 3, 4], "stereo repeated in turn")
        XCTAssertEqual(map([1, 2, 3, 4, 5, 6], 3, 2), [1, 2, 4, 5], "the first channels")
        XCTAssertEqual(map([1, 2, 3], 3, 3), [1, 2, 3])
        XCTAssertEqual(map([], 2, 1), [])
    }

    func testStreamingConversionEqualsTheOfflineOneInAnyChunks() {
        var rng = SeededGenerator(seed: 49)
        let cases: [(Int, Int, Int, Int)] = [(22_050, 1, 48_000, 2), (44_100, 2, 48_000, 2), (48_000, 2, 16_000, 1),
                                             (16_000, 1, 16_000, 2), (44_100, 2, 44_100, 1), (8_000, 3, 11_025, 2)]
        for (inRate, inChannels, outRate, outChannels) in cases {
            let frames = 2_345
            let x = (0..<(frames * inChannels)).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 }
            let offline = InterleavedAudio(sampleRate: inRate, channels: inChannels, samples: x)
                .converted(toRate: outRate, channels: outChannels)
            var converter = StreamingFormatConverter(from: inRate, channels: inChannels, to: outRate, channels: outChannels)
            var streamed = [Float]()
            var offset = 0
            while offset < frames {
                let n = min(frames - offset, Int(rng.next() % 300))
                x[(offset * inChannels)..<((offset + n) * inChannels)].withUnsafeBufferPointer { converter.process($0, appendingTo: &streamed) }
                offset += n
            }
            let what = "\(inRate)/\(inChannels) → \(outRate)/\(outChannels)"
            XCTAssertEqual(streamed.count % outChannels, 0, what)
            // The stream holds back the resampler's look-ahead; what it gave out is the offline result exactly.
            let held = inRate == outRate ? 0 : Int((converter.lookAheadSeconds * Double(outRate)).rounded(.up)) + 2
            XCTAssertGreaterThanOrEqual(streamed.count, offline.samples.count - held * outChannels, what)
            XCTAssertEqual(streamed, Array(offline.samples.prefix(streamed.count)), what)
            XCTAssertEqual(offline.sampleRate, outRate)
            XCTAssertEqual(offline.channels, outChannels)
            XCTAssertEqual(offline.frameCount, Int((Double(frames) * Double(outRate) / Double(inRate)).rounded()), what)
        }
    }
}
