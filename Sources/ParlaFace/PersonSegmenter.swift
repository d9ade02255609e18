import Foundation
import ParlaKernels
import ParlaMedia
import ParlaModel

/// A person mask at a picture's resolution: row-major from the top-left pixel, one byte per pixel,
/// `round(255 · probability)` that the pixel shows a person (0 = background, 255 = person).
public struct PersonMask: Sendable, Equatable {
    /// Columns (the picture's width).
    public let width: Int
    /// Rows (the picture's height).
    public let height: Int
    /// `width × height` values, index `y · width + x`.
    public let values: [UInt8]

    /// A mask from its values; `values.count` must be `width × height`.
    public init(width: Int, height: Int, values: [UInt8]) {
        precondition(width >= 0 && height >= 0 && values.count == width * height, "person mask: size mismatch")
        self.width = width
        self.height = height
        self.values = values
    }

    /// The person probability (0...1) of pixel (x, y).
    public func probability(x: Int, y: Int) -> Float { Float(values[y * width + x]) / 255 }

    /// The share of pixels whose probability is at least `threshold`.
    public func coverage(threshold: Float = 0.5) -> Float {
        let cut = UInt8(min(max((threshold * 255).rounded(.up), 0), 255))
        return values.isEmpty ? 0 : Float(values.lazy.filter { $0 >= cut }.count) / Float(values.count)
    }

    /// The mask as an opaque grey picture (white = person), for looking at it.
    public func greyImage() -> RGBAImage {
        var pixels = [UInt8](repeating: 255, count: width * height * 4)
        for (i, v) in values.enumerated() {
            pixels[4 * i] = v
            pixels[4 * i + 1] = v
            pixels[4 * i + 2] = v
        }
        return RGBAImage(width: width, height: height, pixels: pixels)
    }
}

/// MediaPipe's selfie segmentation (the general 256×256 model, `selfie_segmentation.pmdl`, int8 by default) with
/// MediaPipe's pre- and post-processing: the whole picture is resized to 256×256 *without* keeping its aspect
/// (ImageToTensorCalculator, keep_aspect_ratio false; sampled bilinearly from the image-pyramid level that suits
/// the size, as the face models' crops are), converted with the model's recorded normalization (pixels / 255), and
/// the 256×256 probability map (the model ends in a sigmoid) is resized back to the picture's size bilinearly with
/// pixel centres aligned (TensorsToSegmentationCalculator). One segmenter per thread.
public final class PersonSegmenter {
    /// Model file name (without extension).
    public static let modelName = "selfie_segmentation"
    /// Model input side.
    public static let inputSize = 256

    /// The model in use.
    public let model: Model
    private let executor: Executor
    private let normalization: InputNormalization
    private var input: Tensor

    /// Prepares the segmenter; throws a `FaceError` (.model) if the model's input or output is not the
    /// segmentation model's.
    public init(model: Model, threads: Int = 1) throws {
        try model.checkImageInput(size: PersonSegmenter.inputSize)
        let side = PersonSegmenter.inputSize
        guard model.outputShapes.count == 1, model.outputShapes[0] == [1, side, side, 1] else {
            throw FaceError(.model, file: model.name,
                            problem: "expected one output of shape [1, \(side), \(side), 1] (person probability), found \(model.outputShapes)")
        }
        self.model = model
        normalization = try InputNormalization(model: model)
        do {
            executor = try Executor(model: model, threads: threads)
        } catch {
            throw FaceError(.model, file: model.name, problem: "cannot prepare the segmentation model: \(error)")
        }
        input = Tensor(zeros: [1, side, side, 3])
    }

    /// Loads `selfie_segmentation[.int8].pmdl` from `directory` (or the default model location, see
    /// ``FaceModels/defaultDirectory()``) in the given precision.
    public convenience init(directory: URL? = nil, precision: ModelPrecision = .int8, threads: Int = 1) throws {
        let dir = try directory ?? FaceModels.defaultDirectory()
        try self.init(model: FaceModels.load(PersonSegmenter.modelName, in: dir, precision: precision), threads: threads)
    }

    /// The person mask of `image` at its own resolution; `name` appears in errors (an empty picture).
    public func segment(_ image: RGBAImage, name: String = "image") throws -> PersonMask {
        let map = try probabilities(image, name: name)
        return PersonSegmenter.resize(map, side: PersonSegmenter.inputSize, toWidth: image.width, height: image.height)
    }

    /// The model's 256×256 probability map (row-major, 0...1) for `image`, before resizing to the picture.
    public func probabilities(_ image: RGBAImage, name: String = "image") throws -> [Float] {
        guard image.width > 0 && image.height > 0 else {
            throw FaceError(.image, file: name, problem: "the picture is empty")
        }
        guard image.pixels.count == image.width * image.height * 4 else {
            throw FaceError(.image, file: name, problem: "the picture has \(image.pixels.count) bytes, not width × height × 4")
        }
        let w = Float(image.width), h = Float(image.height)
        let roi = FaceROI(center: SIMD2(w / 2, h / 2), width: w, height: h, rotation: 0)
        ROISampler.sample(ImagePyramid(image), roi: roi, size: PersonSegmenter.inputSize, border: .zero,
                          normalization: normalization, mirror: false, into: &input.data)
        let outputs: [Tensor]
        do {
            outputs = try executor.run([input])
        } catch {
            throw FaceError(.model, file: name, problem: "segmentation failed: \(error)")
        }
        return outputs[0].data
    }

    /// Bilinear resize of a `side × side` probability map to `width × height` bytes, pixel centres aligned
    /// (source = (x + 0.5)·side/width − 0.5, clamped to the map), probabilities clamped to 0...1.
    static func resize(_ map: [Float], side: Int, toWidth width: Int, height: Int) -> PersonMask {
        func axis(_ n: Int) -> [(Int, Int, Float)] {
            (0..<n).map { i in
                let s = min(max((Float(i) + 0.5) * Float(side) / Float(n) - 0.5, 0), Float(side - 1))
                let i0 = Int(s.rounded(.down))
                return (i0, min(i0 + 1, side - 1), s - Float(i0))
            }
        }
        let xs = axis(width), ys = axis(height)
        var values = [UInt8](repeating: 0, count: width * height)
        map.withUnsafeBufferPointer { m in
            values.withUnsafeMutableBufferPointer { out in
                for (y, (y0, y1, fy)) in ys.enumerated() {
                    for (x, (x0, x1, fx)) in xs.enumerated() {
                        let top = m[y0 * side + x0] + (m[y0 * side + x1] - m[y0 * side + x0]) * fx
                        let bottom = m[y1 * side + x0] + (m[y1 * side + x1] - m[y1 * side + x0]) * fx
                        let p = top + (bottom - top) * fy
                        out[y * width + x] = p.isNaN ? 0 : UInt8(min(max(p, 0), 1) * 255 + 0.5)
                    }
                }
            }
        }
        return PersonMask(width: width, height: height, values: values)
    }
}
