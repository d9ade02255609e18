import Foundation
import ParlaFace
import ParlaMotion

/// Steps 1–3 of the decoder: moves the avatar's vertices for one ``MotionFrame`` and snaps them to the
/// output's 1/256-pixel grid.
///
/// 1. Deform: `v = rest + Σ weight(name) · delta` over the rig targets.
/// 2. Head pose: `r = pivot + R · (v − pivot)` with `R = Rz(roll) · Ry(yaw) · Rx(pitch)`, orthographic
///    projection; each vertex takes `v + h · (r − v)` (h = its head weight), then
///    `+ h · ((p − pivot) · (scale − 1) + translation)` in x and y.
/// 3. Map texture → output with the ``CoverMapping`` and snap.
///
/// All buffers are allocated once in `init`; `run` allocates nothing.
final class MeshDeformer {
    let vertexCount: Int
    private let rest: UnsafeMutableBufferPointer<SIMD4<Float>>
    private let headWeights: UnsafeMutableBufferPointer<Float>
    private let pivot: SIMD4<Float>
    /// Rig entries of all targets, grouped by blendshape: `rigRanges[shape.rawValue]` indexes them.
    private let rigIndices: UnsafeMutableBufferPointer<Int32>
    private let rigDeltas: UnsafeMutableBufferPointer<SIMD4<Float>>
    private let rigRanges: [Range<Int>]
    private let work: UnsafeMutableBufferPointer<SIMD4<Float>>
    private let mapScale: Float
    private let mapOffset: SIMD2<Float>
    /// Output size in pixels (translation is in units of it).
    private let outputSize: SIMD2<Float>

    /// Snapped output positions of the last `run` (1/256 pixel).
    let snapped: UnsafeMutableBufferPointer<SIMD2<Int64>>
    /// Depth of the last `run` (texture pixels, growing away from the camera).
    let depth: UnsafeMutableBufferPointer<Float>

    /// `avatar` must already be validated (indices in range, finite numbers).
    init(avatar: Avatar, mapping: CoverMapping, outputWidth: Int, outputHeight: Int) {
        vertexCount = avatar.vertices.count
        rest = .allocate(capacity: vertexCount)
        headWeights = .allocate(capacity: vertexCount)
        for i in 0..<vertexCount {
            let v = avatar.vertices[i]
            rest[i] = SIMD4(v.x, v.y, v.z, 0)
            headWeights[i] = avatar.headWeights[i]
        }
        pivot = SIMD4(avatar.headPivot.x, avatar.headPivot.y, avatar.headPivot.z, 0)

        var grouped = [[(Int32, SIMD4<Float>)]](repeating: [], count: Blendshape.allCases.count)
        for target in avatar.rig {
            guard let shape = Blendshape(name: target.name) else { continue }
            for (index, delta) in zip(target.indices, target.deltas) {
                grouped[shape.rawValue].append((Int32(index), SIMD4(delta.x, delta.y, delta.z, 0)))
            }
        }
        let total = grouped.reduce(0) { $0 + $1.count }
        rigIndices = .allocate(capacity: max(total, 1))
        rigDeltas = .allocate(capacity: max(total, 1))
        var ranges = [Range<Int>]()
        var cursor = 0
        for entries in grouped {
            let start = cursor
            for (index, delta) in entries {
                rigIndices[cursor] = index
                rigDeltas[cursor] = delta
                cursor += 1
            }
            ranges.append(start..<cursor)
        }
        rigRanges = ranges

        work = .allocate(capacity: vertexCount)
        snapped = .allocate(capacity: vertexCount)
        depth = .allocate(capacity: vertexCount)
        mapScale = Float(mapping.scale)
        mapOffset = SIMD2(Float(mapping.offset.x), Float(mapping.offset.y))
        outputSize = SIMD2(Float(outputWidth), Float(outputHeight))
    }

    deinit {
        rest.deallocate(); headWeights.deallocate(); rigIndices.deallocate(); rigDeltas.deallocate()
        work.deallocate(); snapped.deallocate(); depth.deallocate()
    }

    /// The snapped output position of a texture position — the one function both the rest-pose texture
    /// coordinates (at init) and every frame use, so the rest pose maps exactly onto itself.
    @inline(__always)
    func snapToOutput(_ p: SIMD2<Float>) -> SIMD2<Int64> {
        let q = p * mapScale + mapOffset
        return SIMD2(Subpixel.snap(q.x), Subpixel.snap(q.y))
    }

    /// The rest pose snapped to the output grid.
    func snappedRestPosition(_ i: Int) -> SIMD2<Int64> {
        snapToOutput(SIMD2(rest[i].x, rest[i].y))
    }

    /// Computes `snapped` and `depth` for `frame` (whose numbers must be finite).
    func run(_ frame: MotionFrame) {
        // 1. Blendshape deformation.
        _ = work.initialize(fromContentsOf: rest)
        frame.blendshapes.values.withUnsafeBufferPointer { weights in
            for shape in 0..<rigRanges.count {
                let w = weights[shape]
                if w == 0 { continue }
                for e in rigRanges[shape] {
                    let i = Int(rigIndices[e])
                    work[i] += w * rigDeltas[e]
                }
            }
        }
        // 2. Head pose: rotation minus identity (exactly zero at rest), then scale and translation.
        let m = Self.rotationMinusIdentity(pitch: frame.headPitch, yaw: frame.headYaw, roll: frame.headRoll)
        let scaleMinusOne = frame.scale - 1
        let translation = frame.translation * outputSize / mapScale
        for i in 0..<vertexCount {
            var p = work[i]
            let h = headWeights[i]
            if h != 0 {
                let d = p - pivot
                let turn = m.0 * d.x + m.1 * d.y + m.2 * d.z
                p += h * turn
                let xy = SIMD2(p.x, p.y)
                let moved = xy + h * ((xy - SIMD2(pivot.x, pivot.y)) * scaleMinusOne + translation)
                p.x = moved.x
                p.y = moved.y
            }
            // 3. Texture → output, snapped.
            snapped[i] = snapToOutput(SIMD2(p.x, p.y))
            depth[i] = p.z
        }
    }

    /// Columns of `Rz(roll) · Ry(yaw) · Rx(pitch) − I` (computed in Double; exactly zero at zero angles).
    static func rotationMinusIdentity(pitch: Float, yaw: Float, roll: Float)
        -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>)
    {
        let (sp, cp) = (sin(Double(pitch)), cos(Double(pitch)))
        let (sy, cy) = (sin(Double(yaw)), cos(Double(yaw)))
        let (sr, cr) = (sin(Double(roll)), cos(Double(roll)))
        // Rows of Ry · Rx.
        let a0 = SIMD3<Double>(cy, -sy * sp, -sy * cp)
        let a1 = SIMD3<Double>(0, cp, -sp)
        let a2 = SIMD3<Double>(sy, cy * sp, cy * cp)
        // Rows of Rz · (Ry · Rx) − I.
        let r0 = cr * a0 - sr * a1 - SIMD3(1, 0, 0)
        let r1 = sr * a0 + cr * a1 - SIMD3(0, 1, 0)
        let r2 = a2 - SIMD3(0, 0, 1)
        func column(_ j: Int) -> SIMD4<Float> { SIMD4(Float(r0[j]), Float(r1[j]), Float(r2[j]), 0) }
        return (column(0), column(1), column(2))
    }
}
