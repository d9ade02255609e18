import XCTest
import ParlaTestSupport
@testable import ParlaMotion

final class RealFFTTests: XCTestCase {
    func testMatchesDirectDFTOnRandomInputs() throws {
        var rng = SeededGenerator(seed: 42)
        for size in [4, 8, 16, 32, 64, 128, 256, 512, 1024] {
            let fft = try RealFFT(size: size)
            for _ in 0..<3 {
                let x = (0..<size).map { _ in Float.random(in: -1...1, using: &rng) }
                let (re, im) = fft.forward(x)
                let (refRe, refIm) = RealFFT.referenceDFT(x)
                // Float FFT error grows like log2(N)·ε·sqrt(N)·rms; scale the bound to the input energy.
                let tolerance = 2e-6 * Double(size).squareRoot() * log2(Double(size))
                for k in 0...(size / 2) {
                    XCTAssertEqual(Double(re[k]), refRe[k], accuracy: tolerance, "size \(size) bin \(k) real")
                    XCTAssertEqual(Double(im[k]), refIm[k], accuracy: tolerance, "size \(size) bin \(k) imaginary")
                }
            }
        }
    }

    func testKnownTransforms() throws {
        let fft = try RealFFT(size: 16)
        // A cosine at bin 3 puts N/2 in bins 3 and nothing elsewhere.
        let x = (0..<16).map { Float(cos(2 * Double.pi * 3 * Double($0) / 16)) }
        let (re, im) = fft.forward(x)
        for k in 0...8 {
            XCTAssertEqual(re[k], k == 3 ? 8 : 0, accuracy: 1e-5)
            XCTAssertEqual(im[k], 0, accuracy: 1e-5)
        }
        // An impulse has a flat spectrum.
        var impulse = [Float](repeating: 0, count: 16)
        impulse[0] = 1
        let flat = fft.forward(impulse)
        XCTAssertEqual(flat.real, [Float](repeating: 1, count: 9))
    }

    func testRejectsSizesThatAreNotPowersOfTwo() {
        for size in [0, 2, 3, 100, 1000] {
            XCTAssertThrowsError(try RealFFT(size: size)) { error in
                XCTAssertEqual((error as? MotionError)?.description, "FFT: size \(size) is not a power of two of at least 4")
            }
        }
    }
}
