import Foundation
import ParlaFace
import ParlaMedia
import ParlaMotion
import ParlaTestSupport
@testable import ParlaRender

/// Helpers shared by the decoder tests.
enum DecoderTestSupport {
    /// The bilinear resize the decoder must produce at rest: the texture sampled through the cover mapping
    /// with the decoder's sampling rule, computed here in Double.
    static func coverResize(_ texture: RGBAImage, width: Int, height: Int) -> RGBAImage {
        let m = CoverMapping(textureWidth: texture.width, textureHeight: texture.height, outputWidth: width, outputHeight: height)
        var out = RGBAImage(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                let p = m.texturePosition(ofOutput: SIMD2(Double(x) + 0.5, Double(y) + 0.5)) - 0.5
                let u = min(max(p.x, 0), Double(texture.width - 1)), v = min(max(p.y, 0), Double(texture.height - 1))
                let x0 = Int(u), y0 = Int(v)
                let x1 = min(x0 + 1, texture.width - 1), y1 = min(y0 + 1, texture.height - 1)
                let fx = u - Double(x0), fy = v - Double(y0)
                for c in 0..<4 {
                    func t(_ xx: Int, _ yy: Int) -> Double { Double(texture.pixels[(yy * texture.width + xx) * 4 + c]) }
                    let top = t(x0, y0) * (1 - fx) + t(x1, y0) * fx
                    let bottom = t(x0, y1) * (1 - fx) + t(x1, y1) * fx
                    out.pixels[(y * width + x) * 4 + c] = UInt8((top * (1 - fy) + bottom * fy).rounded())
                }
            }
        }
        return out
    }

    /// Largest per-byte difference between two images of the same size.
    static func maxDifference(_ a: RGBAImage, _ b: RGBAImage) -> Int {
        zip(a.pixels, b.pixels).reduce(0) { max($0, abs(Int($1.0) - Int($1.1))) }
    }

    /// The pixel at (x, y) as (r, g, b, a).
    static func pixel(_ image: RGBAImage, _ x: Int, _ y: Int) -> SIMD4<Int> {
        let i = (y * image.width + x) * 4
        return SIMD4(Int(image.pixels[i]), Int(image.pixels[i + 1]), Int(image.pixels[i + 2]), Int(image.pixels[i + 3]))
    }

    /// A frame with a few random expression weights (all known to the synthetic rig or not) and head motion.
    static func randomFrame(_ rng: inout SeededGenerator, head: Float) -> MotionFrame {
        var f = MotionFrame(time: 0)
        for shape in [Blendshape.jawOpen, .mouthSmileLeft, .mouthSmileRight, .mouthFunnel, .browInnerUp] {
            f.blendshapes[shape] = Float.random(in: 0...1, using: &rng)
        }
        f.headPitch = Float.random(in: -head...head, using: &rng)
        f.headYaw = Float.random(in: -head...head, using: &rng)
        f.headRoll = Float.random(in: -head...head, using: &rng)
        f.scale = 1 + Float.random(in: -head...head, using: &rng) * 0.2
        f.translation = SIMD2(Float.random(in: -head...head, using: &rng), Float.random(in: -head...head, using: &rng)) * 0.05
        return f
    }

    /// A smooth random displacement field as rig targets on the face vertices (everything with head
    /// weight > 0 except the border), small enough not to fold any triangle of the synthetic mesh.
    static func smoothRig(for synthetic: SyntheticAvatar, names: [String], amplitude: Float, seed: UInt64) -> [RigTarget] {
        var rng = SeededGenerator(seed: seed)
        let avatar = synthetic.avatar
        let fixed = Set(synthetic.staticVertices)
        return names.map { name in
            let k = SIMD2<Float>(Float.random(in: 0.02...0.06, using: &rng), Float.random(in: 0.02...0.06, using: &rng))
            let phase = SIMD2<Float>(Float.random(in: 0...6, using: &rng), Float.random(in: 0...6, using: &rng))
            var indices = [UInt32](), deltas = [SIMD3<Float>]()
            for (i, v) in avatar.vertices.enumerated() where !fixed.contains(i) {
                indices.append(UInt32(i))
                deltas.append(SIMD3(amplitude * Float(sin(Double(v.y * k.x + phase.x))),
                                    amplitude * Float(cos(Double(v.x * k.y + phase.y))), 0))
            }
            return RigTarget(name: name, indices: indices, deltas: deltas)
        }
    }
}
