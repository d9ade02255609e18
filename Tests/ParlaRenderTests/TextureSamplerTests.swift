import XCTest
import ParlaMedia
import ParlaTestSupport
@testable import ParlaRender

final class TextureSamplerTests: XCTestCase {
    func testSIMDSampleEqualsScalarReferenceOnOddSizes() {
        var rng = SeededGenerator(seed: 21)
        for (w, h) in [(1, 1), (1, 7), (5, 1), (13, 9), (31, 17)] {
            var image = RGBAImage(width: w, height: h)
            for i in image.pixels.indices { image.pixels[i] = UInt8.random(in: 0...255, using: &rng) }
            let sampler = TextureSampler(texture: image)
            defer { sampler.deallocate() }
            for _ in 0..<4000 {
                let u = Int64.random(in: -(3 << 16)...(Int64(w + 3) << 16), using: &rng)
                let v = Int64.random(in: -(3 << 16)...(Int64(h + 3) << 16), using: &rng)
                XCTAssertEqual(sampler.sample(u: u, v: v), TextureSampler.referenceSample(image, u: u, v: v), "\(w)x\(h) at \(u), \(v)")
            }
        }
    }

    func testIntegerPositionsReturnTexelsExactly() {
        var rng = SeededGenerator(seed: 2)
        var image = RGBAImage(width: 9, height: 6)
        for i in image.pixels.indices { image.pixels[i] = UInt8.random(in: 0...255, using: &rng) }
        let sampler = TextureSampler(texture: image)
        defer { sampler.deallocate() }
        for y in 0..<6 {
            for x in 0..<9 {
                let i = (y * 9 + x) * 4
                let texel = UInt32(image.pixels[i]) | UInt32(image.pixels[i + 1]) << 8
                    | UInt32(image.pixels[i + 2]) << 16 | UInt32(image.pixels[i + 3]) << 24
                // Exact, and within half a weight step either side.
                for d: Int64 in [0, -127, 127] {
                    XCTAssertEqual(sampler.sample(u: Int64(x) << 16 + d, v: Int64(y) << 16 - d), texel)
                }
            }
        }
    }
}
