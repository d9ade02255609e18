import XCTest
import ParlaTestSupport
@testable import ParlaMotion

final class MelFilterbankTests: XCTestCase {
    func testCentresIncreaseAndBandsOverlapIntoAPartitionOfUnity() throws {
        let bank = try MelFilterbank(sampleRate: 16_000, fftSize: 512, bandCount: 80, lowHz: 60, highHz: 7600)
        let centres = bank.centreFrequencies
        XCTAssertEqual(centres.count, 80)
        for (a, b) in zip(centres, centres.dropFirst()) { XCTAssertLessThan(a, b) }
        XCTAssertGreaterThan(centres[0], 60)
        XCTAssertLessThan(centres[79], 7600)
        // Mel spacing is uniform.
        let mels = bank.edgesHz.map { MelFilterbank.mel(hz: $0) }
        let spacing = mels[1] - mels[0]
        for (a, b) in zip(mels, mels.dropFirst()) { XCTAssertEqual(b - a, spacing, accuracy: 1e-6) }
        XCTAssertEqual(mels.first!, MelFilterbank.mel(hz: 60), accuracy: 1e-9)
        XCTAssertEqual(mels.last!, MelFilterbank.mel(hz: 7600), accuracy: 1e-6)
        // Between the first and last centre, the weights of every bin sum to 1; outside the range they are 0.
        let binHz = 16_000.0 / 512
        for bin in 0...256 {
            let f = Double(bin) * binHz
            let sum = (0..<80).reduce(Float(0)) { $0 + bank.weight(band: $1, bin: bin) }
            if f >= centres[0] && f <= centres[79] {
                XCTAssertEqual(sum, 1, accuracy: 1e-5, "bin \(bin) (\(f) Hz)")
            } else if f <= 60 || f >= 7600 {
                XCTAssertEqual(sum, 0, "bin \(bin)")
            }
            // Each bin lies in at most two bands.
            let bands = (0..<80).filter { bank.weight(band: $0, bin: bin) > 0 }
            XCTAssertLessThanOrEqual(bands.count, 2)
        }
        // Every band has weight somewhere.
        for band in 0..<80 {
            XCTAssertGreaterThan((0...256).reduce(Float(0)) { $0 + bank.weight(band: band, bin: $1) }, 0, "band \(band)")
        }
    }

    func testSparseApplyMatchesDenseReference() throws {
        var rng = SeededGenerator(seed: 3)
        for (rate, fft, bands) in [(16_000, 512, 80), (16_000, 512, 40), (8000, 256, 23), (22_050, 1024, 57)] {
            let bank = try MelFilterbank(sampleRate: rate, fftSize: fft, bandCount: bands, lowHz: 60,
                                         highHz: min(7600, 0.475 * Double(rate)))
            let power = (0...(fft / 2)).map { _ in Float.random(in: 0...4, using: &rng) }
            var fast = [Float](repeating: 0, count: bands)
            power.withUnsafeBufferPointer { p in fast.withUnsafeMutableBufferPointer { bank.apply(power: p, into: $0) } }
            let reference = bank.applyReference(power: power)
            for b in 0..<bands { XCTAssertEqual(fast[b], reference[b], accuracy: 1e-4 * max(1, reference[b])) }
        }
    }

    func testRejectsImpossibleBanks() {
        XCTAssertThrowsError(try MelFilterbank(sampleRate: 16_000, fftSize: 512, bandCount: 80, lowHz: 60, highHz: 9000))
        XCTAssertThrowsError(try MelFilterbank(sampleRate: 16_000, fftSize: 64, bandCount: 80, lowHz: 60, highHz: 7600))
        XCTAssertThrowsError(try MelFilterbank(sampleRate: 16_000, fftSize: 512, bandCount: 0, lowHz: 60, highHz: 7600))
    }
}

final class LogMelSpectrogramTests: XCTestCase {
    func testStreamingEqualsBatchForAnyChunking() throws {
        let spectrogram = try LogMelSpectrogram()
        var rng = SeededGenerator(seed: 11)
        let train = MotionTestAudio.syllableTrain(count: 4).audio.samples
        let noise = (0..<3_337).map { _ in Float.random(in: -0.2...0.2, using: &rng) }
        let signal = train + noise
        let batch = spectrogram.compute(signal)
        XCTAssertEqual(batch.count, spectrogram.frameCount(sampleCount: signal.count) * 80)
        XCTAssertEqual(spectrogram.frameCount(sampleCount: signal.count), 1 + (signal.count - 400) / 160)
        for attempt in 0..<4 {
            var stream = spectrogram.makeStream()
            var streamed = [Float]()
            var position = 0
            while position < signal.count {
                let chunk = attempt == 0 ? 1 : Int.random(in: 1...2_000, using: &rng)
                let end = min(signal.count, position + chunk)
                stream.append(signal[position..<end], to: &streamed)
                position = end
            }
            XCTAssertEqual(stream.framesProduced, batch.count / 80)
            XCTAssertEqual(streamed, batch, "chunking attempt \(attempt)")
        }
    }

    func testToneLandsInTheBandAroundItsFrequency() throws {
        let spectrogram = try LogMelSpectrogram()
        let tone = (0..<1_600).map { Float(0.5 * sin(2 * Double.pi * 1000 * Double($0) / 16_000)) }
        let frames = spectrogram.compute(tone)
        let first = Array(frames[0..<80])
        let loudest = first.indices.max { first[$0] < first[$1] }!
        let centres = spectrogram.filterbank.centreFrequencies
        XCTAssertLessThan(abs(centres[loudest] - 1000), 60, "loudest band centre \(centres[loudest])")
        // Digital silence hits the floor exactly.
        let silence = spectrogram.compute([Float](repeating: 0, count: 800))
        XCTAssertTrue(silence.allSatisfy { $0 == log(Float(1e-10)) })
    }

    func testRejectsWindowLargerThanFFT() {
        var c = LogMelConfiguration()
        c.windowLength = 600
        XCTAssertThrowsError(try LogMelSpectrogram(configuration: c)) { error in
            XCTAssertTrue("\(error)".contains("does not fit the 512-point FFT"))
        }
    }
}
