import Foundation
import ParlaMedia

/// A rotated rectangle in image pixels: the part of a picture a face model looks at.
///
/// `rotation` is in radians; a positive angle turns the rectangle's x axis toward the image's +y (clockwise on
/// screen). Crop coordinates (0...1 across the rectangle) map to image pixels through ``imagePoint(normalized:)``.
public struct FaceROI: Sendable, Equatable {
    /// Centre, image pixels.
    public var center: SIMD2<Float>
    /// Width along the rectangle's own x axis, pixels.
    public var width: Float
    /// Height along the rectangle's own y axis, pixels.
    public var height: Float
    /// Rotation, radians in (-π, π].
    public var rotation: Float

    /// Creates a rectangle.
    public init(center: SIMD2<Float>, width: Float, height: Float, rotation: Float) {
        self.center = center
        self.width = width
        self.height = height
        self.rotation = rotation
    }

    /// MediaPipe's DetectionsToRects + RectTransformation(square_long, scale): the box's centre, rotated so the
    /// vector `from` → `to` becomes horizontal, the longer box side times `scale` on both sides.
    public init(boxMin: SIMD2<Float>, boxMax: SIMD2<Float>, from: SIMD2<Float>, to: SIMD2<Float>, scale: Float) {
        let d = to - from
        let side = max(boxMax.x - boxMin.x, boxMax.y - boxMin.y) * scale
        self.init(center: (boxMin + boxMax) * 0.5, width: side, height: side,
                  rotation: FaceROI.normalizedAngle(atan2f(d.y, d.x)))
    }

    /// The ROI around a set of points (their bounding box), rotated by `from` → `to`, scaled like
    /// ``init(boxMin:boxMax:from:to:scale:)``.
    public init(around points: [SIMD3<Float>], from: SIMD2<Float>, to: SIMD2<Float>, scale: Float) {
        var lo = SIMD2<Float>(repeating: .infinity), hi = SIMD2<Float>(repeating: -.infinity)
        for p in points {
            let q = SIMD2(p.x, p.y)
            lo = pointwiseMin(lo, q)
            hi = pointwiseMax(hi, q)
        }
        self.init(boxMin: lo, boxMax: hi, from: from, to: to, scale: scale)
    }

    /// The image point at crop-normalized coordinates (0, 0) top-left … (1, 1) bottom-right.
    public func imagePoint(normalized p: SIMD2<Float>) -> SIMD2<Float> {
        let c = cosf(rotation), s = sinf(rotation)
        let x = (p.x - 0.5) * width, y = (p.y - 0.5) * height
        return center + SIMD2(c * x - s * y, s * x + c * y)
    }

    /// Maps a model output point given in crop pixels of a `size`×`size` input back to image pixels; depth is
    /// scaled like x (MediaPipe's LandmarkProjection).
    func project(cropPoint p: SIMD3<Float>, cropSize size: Float) -> SIMD3<Float> {
        let q = imagePoint(normalized: SIMD2(p.x / size, p.y / size))
        return SIMD3(q.x, q.y, p.z / size * width)
    }

    /// `angle` wrapped into [-π, π).
    static func normalizedAngle(_ angle: Float) -> Float {
        let twoPi = 2 * Float.pi
        return angle - twoPi * ((angle + Float.pi) / twoPi).rounded(.down)
    }
}

/// The picture at several resolutions (each level half the previous, area-averaged), built on demand, so crops
/// much smaller than their ROI sample a level without aliasing.
final class ImagePyramid {
    let base: RGBAImage
    private var levels: [Int: RGBAImage] = [:]

    init(_ image: RGBAImage) { base = image }

    /// Level `k` (0 = the picture itself).
    func level(_ k: Int) -> RGBAImage {
        if k <= 0 { return base }
        if let cached = levels[k] { return cached }
        let w = max(1, base.width >> k), h = max(1, base.height >> k)
        let image = base.resized(width: w, height: h)
        levels[k] = image
        return image
    }

    /// The level to crop from when `roiSize` source pixels become `cropSize` crop pixels: the coarsest level at
    /// which a crop step is still at least one level pixel (level 0 while the ROI is under twice the crop).
    func levelIndex(roiSize: Float, cropSize: Int) -> Int {
        let step = roiSize / Float(cropSize)
        guard step.isFinite, step >= 2 else { return 0 }
        var k = 0
        while k < 12 && Float(1 << (k + 1)) <= step && (base.width >> (k + 1)) >= 2 && (base.height >> (k + 1)) >= 2 {
            k += 1
        }
        return k
    }
}

/// Builds model inputs by sampling a rotated ROI of a picture into a float NHWC RGB buffer.
enum ROISampler {
    /// What lies outside the picture.
    enum Border {
        /// The nearest edge pixel (MediaPipe's BORDER_REPLICATE).
        case replicate
        /// Black (pixel value 0 before normalization; MediaPipe's BORDER_ZERO).
        case zero
    }

    /// Fills `out` (`size*size*3` floats) with the ROI sampled bilinearly: output pixel (u, v) reads the picture at
    /// `roi.imagePoint(normalized: (u/size, v/size))` taken as OpenCV pixel-index coordinates, exactly like
    /// MediaPipe's ImageToTensor (warpPerspective to the corners (0,0)…(size,size)). `image` may be a reduced copy
    /// of the picture the ROI refers to; `levelScale` is its size over the picture's size. With `mirror`, the
    /// crop is flipped left-right. Values become `(pixel - mean) / std`.
    static func sample(
        _ image: RGBAImage, levelScale: SIMD2<Float>, roi: FaceROI, size: Int, border: Border,
        normalization: InputNormalization, mirror: Bool, into out: inout [Float]
    ) {
        precondition(out.count == size * size * 3, "crop buffer has the wrong size")
        let width = image.width, height = image.height
        let c = cosf(roi.rotation), s = sinf(roi.rotation)
        let n = Float(size)
        // Level coordinates of the crop origin and per-pixel steps (integer-centred pixel coordinates).
        let axisX = SIMD2(c * roi.width / n, s * roi.width / n) * levelScale
        let axisY = SIMD2(-s * roi.height / n, c * roi.height / n) * levelScale
        let corner = roi.imagePoint(normalized: .zero)
        let origin = (corner + 0.5) * levelScale - 0.5
        let invStd = 1 / normalization.std, mean = normalization.mean
        guard width > 0 && height > 0 else {
            for i in out.indices { out[i] = (0 - mean) * invStd }
            return
        }
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                @inline(__always) func texel(_ x: Int, _ y: Int) -> SIMD4<Float> {
                    let xi: Int, yi: Int
                    switch border {
                    case .replicate:
                        xi = min(max(x, 0), width - 1)
                        yi = min(max(y, 0), height - 1)
                    case .zero:
                        if x < 0 || y < 0 || x >= width || y >= height { return .zero }
                        xi = x
                        yi = y
                    }
                    let o = (yi * width + xi) * 4
                    return SIMD4(Float(src[o]), Float(src[o + 1]), Float(src[o + 2]), 0)
                }
                for v in 0..<size {
                    var p = origin + axisY * Float(v)
                    for u in 0..<size {
                        let px = p.x, py = p.y
                        p += axisX
                        var value = SIMD4<Float>(repeating: 0)
                        if px.isFinite && py.isFinite && abs(px) < 1e7 && abs(py) < 1e7 {
                            let fx = px.rounded(.down), fy = py.rounded(.down)
                            let x0 = Int(fx), y0 = Int(fy)
                            let tx = px - fx, ty = py - fy
                            let top = texel(x0, y0) + (texel(x0 + 1, y0) - texel(x0, y0)) * tx
                            let bottom = texel(x0, y0 + 1) + (texel(x0 + 1, y0 + 1) - texel(x0, y0 + 1)) * tx
                            value = top + (bottom - top) * ty
                        }
                        let column = mirror ? size - 1 - u : u
                        let o = (v * size + column) * 3
                        dst[o] = (value.x - mean) * invStd
                        dst[o + 1] = (value.y - mean) * invStd
                        dst[o + 2] = (value.z - mean) * invStd
                    }
                }
            }
        }
    }

    /// Samples from the pyramid level suited to the ROI's size (see ``ImagePyramid/levelIndex(roiSize:cropSize:)``).
    static func sample(
        _ pyramid: ImagePyramid, roi: FaceROI, size: Int, border: Border, normalization: InputNormalization,
        mirror: Bool, into out: inout [Float]
    ) {
        let k = pyramid.levelIndex(roiSize: max(roi.width, roi.height), cropSize: size)
        let level = pyramid.level(k)
        let scale = SIMD2(Float(level.width) / Float(max(pyramid.base.width, 1)),
                          Float(level.height) / Float(max(pyramid.base.height, 1)))
        sample(level, levelScale: scale, roi: roi, size: size, border: border, normalization: normalization,
               mirror: mirror, into: &out)
    }
}
