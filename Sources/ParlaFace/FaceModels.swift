import Foundation
import ParlaModel

/// Which converted form of the face models to run.
public enum ModelPrecision: String, Sendable, CaseIterable {
    /// The float32 conversion (`<name>.pmdl`), the reference.
    case fp32
    /// The int8 quantization (`<name>.int8.pmdl`, Tools/quantize-models), the default.
    case int8

    /// The file name of model `name` in this precision.
    public func fileName(_ name: String) -> String {
        self == .fp32 ? "\(name).\(FaceModels.fileExtension)" : "\(name).int8.\(FaceModels.fileExtension)"
    }
}

/// The three MediaPipe-derived models the face layer runs, loaded from one directory.
///
/// Lookup order: an explicit directory, then the `PARLA_MODELS` environment variable, then the SwiftPM resource
/// bundle (`Parla_ParlaFace.resources/Models` next to the executable). Nothing is downloaded.
public struct FaceModels: Sendable {
    /// BlazeFace short-range detector (`face_detection_short_range.pmdl`).
    public let detector: Model
    /// 468-point face mesh (`face_landmark.pmdl`).
    public let mesh: Model
    /// Iris and eye contour (`iris_landmark.pmdl`).
    public let iris: Model
    /// The directory the models came from.
    public let directory: URL
    /// Which files were loaded.
    public let precision: ModelPrecision

    /// File names (without extension) of the three models.
    public static let detectorName = "face_detection_short_range"
    /// See ``detectorName``.
    public static let meshName = "face_landmark"
    /// See ``detectorName``.
    public static let irisName = "iris_landmark"
    /// Model file extension.
    public static let fileExtension = "pmdl"
    /// Environment variable naming a directory that holds the three model files.
    public static let environmentVariable = "PARLA_MODELS"

    /// Loads the three models from `directory`, or from the default location when nil (see the type's summary),
    /// in the given precision (int8 unless asked otherwise).
    public init(directory: URL? = nil, precision: ModelPrecision = .int8) throws {
        let dir = try directory ?? FaceModels.defaultDirectory()
        self.directory = dir
        self.precision = precision
        detector = try FaceModels.load(FaceModels.detectorName, in: dir, precision: precision)
        mesh = try FaceModels.load(FaceModels.meshName, in: dir, precision: precision)
        iris = try FaceModels.load(FaceModels.irisName, in: dir, precision: precision)
    }

    /// The directory the models load from when none is given: `PARLA_MODELS`, else the resource bundle.
    public static func defaultDirectory() throws -> URL {
        if let env = ProcessInfo.processInfo.environment[environmentVariable], !env.isEmpty {
            return URL(fileURLWithPath: env, isDirectory: true)
        }
        // Bundle.module traps when the bundle is missing, so only touch it once its folder is known to exist.
        let besideExecutable = Bundle.main.bundleURL.appendingPathComponent("Parla_ParlaFace.resources")
        if FileManager.default.fileExists(atPath: besideExecutable.path),
           let url = Bundle.module.url(forResource: detectorName, withExtension: fileExtension, subdirectory: "Models") {
            return url.deletingLastPathComponent()
        }
        throw FaceError(.model, file: besideExecutable.appendingPathComponent("Models").path,
                        problem: "face models not found; set \(environmentVariable) to a directory holding "
                            + "\(detectorName).\(fileExtension), \(meshName).\(fileExtension) and "
                            + "\(irisName).\(fileExtension)")
    }

    static func load(_ name: String, in directory: URL, precision: ModelPrecision = .fp32) throws -> Model {
        let url = directory.appendingPathComponent(precision.fileName(name))
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw FaceError(.model, file: url.path, problem: "face model file is missing")
        }
        do {
            return try Model(contentsOf: url)
        } catch let error as FaceError {
            throw error
        } catch {
            throw FaceError(.model, file: url.path, problem: "cannot load face model: \(error)")
        }
    }
}

/// How a model wants its 8-bit input pixels turned into floats: `x = (pixel - mean) / std`, as recorded in the
/// model file's metadata (`input.mean`, `input.std`).
struct InputNormalization: Sendable, Equatable {
    var mean: Float
    var std: Float

    init(mean: Float, std: Float) {
        self.mean = mean
        self.std = std
    }

    /// Reads `input.mean` and `input.std` from the model's metadata.
    init(model: Model) throws {
        func value(_ key: String) throws -> Float {
            guard let text = model.metadata[key] else {
                throw FaceError(.model, file: model.name, problem: "model metadata has no \(key) (input normalization)")
            }
            guard let v = Float(text.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                throw FaceError(.model, file: model.name, problem: "model metadata \(key) = \(text) is not a number")
            }
            return v
        }
        mean = try value("input.mean")
        std = try value("input.std")
        guard std != 0 else { throw FaceError(.model, file: model.name, problem: "model metadata input.std is 0") }
    }
}

extension Model {
    /// Index of the output whose element count is `count`, or a model error naming what was expected.
    func outputIndex(elementCount count: Int, meaning: String) throws -> Int {
        let counts = outputShapes.map { $0.reduce(1, *) }
        guard let i = counts.firstIndex(of: count) else {
            throw FaceError(.model, file: name, problem: "no output with \(count) values (\(meaning)); outputs are \(outputShapes)")
        }
        return i
    }

    /// Checks that the single input is `1×size×size×3`.
    func checkImageInput(size: Int) throws {
        guard inputShapes.count == 1, inputShapes[0] == [1, size, size, 3] else {
            throw FaceError(.model, file: name, problem: "expected one input of shape [1, \(size), \(size), 3], found \(inputShapes)")
        }
    }
}
