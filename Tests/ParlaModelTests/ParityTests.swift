import Foundation
import ParlaKernels
import ParlaModel
import ParlaTestSupport
import XCTest

/// The converted MediaPipe models run by `Executor` against the original TFLite models' outputs, stored by
/// Tools/convert-models in Tests/Fixtures/models (manifest.json).
final class ParityTests: XCTestCase {
    struct Manifest: Decodable {
        struct Case: Decodable {
            struct Input: Decodable { var file: String; var shape: [Int]; var mean: Float; var std: Float }
            struct Output: Decodable { var name: String; var file: String; var shape: [Int] }
            var model: String
            var `case`: String
            var input: Input
            var outputs: [Output]
        }
        var cases: [Case]
    }

    static let modelsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources/ParlaFace/Models")
    static let fixtures = Fixtures.url("models")

    private func floats(_ name: String) throws -> [Float] {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent(name))
        return data.withUnsafeBytes { raw in
            (0..<(raw.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        }
    }

    /// Runs every stored case of `model`; returns the worst absolute error per output name.
    private func parity(_ model: String) throws -> [String: Float] {
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("manifest.json")))
        let loaded = try Model(contentsOf: Self.modelsDirectory.appendingPathComponent("\(model).pmdl"))
        XCTAssertEqual(loaded.name, model)
        XCTAssertEqual(loaded.metadata["license"], "Apache-2.0")
        let executor = try Executor(model: loaded)
        var worst: [String: Float] = [:]
        let cases = manifest.cases.filter { $0.model == model }
        XCTAssertEqual(cases.count, 2)
        for testCase in cases {
            XCTAssertEqual(loaded.inputShapes, [testCase.input.shape])
            XCTAssertEqual(loaded.metadata["input.mean"].flatMap(Float.init), testCase.input.mean)
            XCTAssertEqual(loaded.metadata["input.std"].flatMap(Float.init), testCase.input.std)
            let pixels = try Data(contentsOf: Self.fixtures.appendingPathComponent(testCase.input.file))
            let x = pixels.map { (Float($0) - testCase.input.mean) / testCase.input.std }
            let outputs = try executor.run([Tensor(shape: testCase.input.shape, data: x)])
            for expected in testCase.outputs {
                let index = try XCTUnwrap(loaded.outputNames.firstIndex(of: expected.name), "output \(expected.name)")
                XCTAssertEqual(outputs[index].shape, expected.shape)
                let reference = try floats(expected.file)
                XCTAssertEqual(reference.count, outputs[index].count)
                var error: Float = 0
                for (a, b) in zip(outputs[index].data, reference) {
                    let e = abs(a - b)
                    error = e.isNaN ? .infinity : max(error, e)
                }
                worst["\(testCase.case)/\(expected.name)"] = error
            }
        }
        print("parity \(model): " + worst.sorted { $0.key < $1.key }.map { "\($0.key) max abs error \($0.value)" }.joined(separator: ", "))
        return worst
    }

    func testFaceLandmarkMatchesTFLite() throws {
        let errors = try parity("face_landmark")
        for (key, error) in errors {
            // Landmarks are in 192-px crop pixels; the face flag is a logit.
            XCTAssertLessThan(error, 0.01, key)
        }
    }

    func testSelfieSegmentationMatchesTFLite() throws {
        // Person probabilities (after the model's sigmoid) over 256x256 pixels.
        for (key, error) in try parity("selfie_segmentation") { XCTAssertLessThan(error, 1e-3, key) }
    }

    func testIrisLandmarkMatchesTFLite() throws {
        for (key, error) in try parity("iris_landmark") { XCTAssertLessThan(error, 0.01, key) }
    }

    func testFaceDetectorMatchesTFLite() throws {
        for (key, error) in try parity("face_detection_short_range") {
            // Regressors are in 128-px input units, classificators are logits.
            XCTAssertLessThan(error, 0.01, key)
        }
    }
}
