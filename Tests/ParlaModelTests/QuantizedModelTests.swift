import Foundation
import ParlaKernels
import ParlaModel
import ParlaTestSupport
import XCTest

/// The int8 models (`*.int8.pmdl`, written by Tools/quantize-models) run by `Executor` on the stored fixture
/// inputs: the integer part must match the numpy simulation of the same arithmetic bit for bit (golden CRC-32s in
/// Tests/Fixtures/models/int8_golden.json, the same numbers on x86-64 and aarch64), and the outputs must stay
/// close to the float model's.
final class QuantizedModelTests: XCTestCase {
    struct Golden: Decodable {
        struct Case: Decodable {
            struct Exact: Decodable { var tensor: String; var crc32: UInt32 }
            struct Output: Decodable { var tensor: String; var values: [Float] }
            var model: String
            var `case`: String
            var dequantized: [Exact]
            var outputs: [Output]
        }
        var cases: [Case]
    }

    static let modelsDirectory = ParityTests.modelsDirectory
    static let fixtures = Fixtures.url("models")

    private func input(_ model: String, _ testCase: String, mean: Float, std: Float) throws -> [Float] {
        let pixels = try Data(contentsOf: Self.fixtures.appendingPathComponent("\(model).\(testCase).input.u8"))
        return pixels.map { (Float($0) - mean) / std }
    }

    private func checkGolden(_ model: String, threads: Int = 1) throws {
        let golden = try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("int8_golden.json")))
        let loaded = try Model(contentsOf: Self.modelsDirectory.appendingPathComponent("\(model).int8.pmdl"))
        XCTAssertTrue(loaded.isQuantized)
        XCTAssertEqual(loaded.metadata["precision"], "int8")
        let cases = golden.cases.filter { $0.model == model }
        XCTAssertEqual(cases.count, 2)
        let mean = try XCTUnwrap(loaded.metadata["input.mean"].flatMap(Float.init))
        let std = try XCTUnwrap(loaded.metadata["input.std"].flatMap(Float.init))
        for testCase in cases {
            let executor = try Executor(model: loaded, threads: threads, retaining: testCase.dequantized.map(\.tensor))
            let x = try input(model, testCase.case, mean: mean, std: std)
            let outputs = try executor.run([Tensor(shape: loaded.inputShapes[0], data: x)])
            for exact in testCase.dequantized {
                let values = try XCTUnwrap(executor.values(of: exact.tensor))
                let crc = values.withUnsafeBytes { CRC32.checksum($0) }  // little-endian hosts only (x86-64, aarch64)
                XCTAssertEqual(crc, exact.crc32, "\(model) \(testCase.case) \(exact.tensor): int8 result differs from the simulation")
            }
            for expected in testCase.outputs {
                let index = try XCTUnwrap(loaded.outputNames.firstIndex(of: expected.tensor))
                var worst: Float = 0
                for (a, b) in zip(outputs[index].data, expected.values) { worst = max(worst, abs(a - b)) }
                XCTAssertEqual(outputs[index].count, expected.values.count)
                // Float heads sum in another order than numpy; everything before them is exact.
                XCTAssertLessThan(worst, 1e-3, "\(model) \(testCase.case) \(expected.tensor)")
            }
        }
    }

    func testFaceLandmarkInt8IsBitExact() throws { try checkGolden("face_landmark") }
    func testIrisLandmarkInt8IsBitExact() throws { try checkGolden("iris_landmark") }
    func testFaceDetectorInt8IsBitExact() throws { try checkGolden("face_detection_short_range") }
    func testSelfieSegmentationInt8IsBitExact() throws { try checkGolden("selfie_segmentation") }

    func testThreadsGiveIdenticalResults() throws {
        try checkGolden("face_landmark", threads: 3)
        try checkGolden("face_detection_short_range", threads: 2)
        try checkGolden("selfie_segmentation", threads: 2)
    }

    /// The int8 face mesh on the test portrait's face crop stays within 1 % of the inter-ocular distance of the
    /// float model (mean over the 468 points).
    func testFaceLandmarkInt8AccuracyOnPortrait() throws {
        let float = try Model(contentsOf: Self.modelsDirectory.appendingPathComponent("face_landmark.pmdl"))
        let int8 = try Model(contentsOf: Self.modelsDirectory.appendingPathComponent("face_landmark.int8.pmdl"))
        let x = try input("face_landmark", "grace_hopper", mean: 0, std: 255)
        let shape = float.inputShapes[0]
        let f = try Executor(model: float).run([Tensor(shape: shape, data: x)])[0].data
        let q = try Executor(model: int8).run([Tensor(shape: shape, data: x)])[0].data
        func point(_ p: [Float], _ i: Int) -> SIMD2<Float> { SIMD2(p[3 * i], p[3 * i + 1]) }
        let right = (point(f, 33) + point(f, 133)) / 2, left = (point(f, 362) + point(f, 263)) / 2
        let iod = ((left - right) * (left - right)).sum().squareRoot()
        var total: Float = 0
        for i in 0..<468 {
            let d = point(f, i) - point(q, i)
            total += (d * d).sum().squareRoot()
        }
        let percent = 100 * total / 468 / iod
        print("face_landmark int8 vs fp32 on the portrait crop: mean \(percent) % of inter-ocular distance")
        XCTAssertLessThan(percent, 1.0)
    }
}
