/// Builds the avatar's blendshape targets (ARKit names) as smooth displacement fields over the mesh.
///
/// Each target pins the displacement of the landmarks it is about (lid contours, lip contours, brows, …) and
/// fills the surrounding vertices with a harmonic (membrane) interpolation on the mesh graph that falls to zero
/// at a radius around the feature; some use a closed-form bump instead. Sizes are fractions of the face's own
/// measures (mouth width, eye width, inter-ocular distance, face width); docs/avatar.md lists them.
struct AvatarRig {
    let mesh: AvatarMesh
    let frame: FaceFrame
    let points: [SIMD3<Float>]
    /// Face coordinates (u along the eye line, v down the face) of every vertex, relative to the eye midpoint.
    let local: [SIMD2<Float>]
    let neighbours: [[Int]]
    /// Vertices that are in no triangle (iris points outside the eye openings).
    let orphans: [Int]

    init(mesh: AvatarMesh) {
        self.mesh = mesh
        frame = mesh.frame
        points = mesh.vertices
        local = mesh.vertices.map { mesh.frame.local($0) }
        var sets = [Set<Int>](repeating: [], count: mesh.vertices.count)
        for t in mesh.triangles {
            let a = Int(t.x), b = Int(t.y), c = Int(t.z)
            sets[a].formUnion([b, c]); sets[b].formUnion([a, c]); sets[c].formUnion([a, b])
        }
        neighbours = sets.map { $0.sorted() }
        orphans = sets.indices.filter { sets[$0].isEmpty }
    }

    /// Every target, in a fixed order.
    func targets() -> [RigTarget] {
        var result: [RigTarget] = []
        result += mouthTargets()
        result += eyeTargets()
        result += browAndCheekTargets()
        return result
    }

    // MARK: - Building blocks

    /// Harmonic interpolation of vector displacements: `pinned` vertices keep their values, vertices farther than
    /// `radius` from `centre` (and `locked` ones) stay at zero, the others settle to the average of their
    /// neighbours (successive over-relaxation until the largest change is below 1e-4 px).
    func field(pinned: [Int: SIMD3<Float>], centre: SIMD2<Float>, radius: Float, locked: Set<Int> = []) -> [SIMD3<Float>] {
        var values = [SIMD3<Float>](repeating: .zero, count: points.count)
        for (i, v) in pinned { values[i] = v }
        let free = points.indices.filter { i in
            pinned[i] == nil && !locked.contains(i) && !neighbours[i].isEmpty
                && length(xy(points[i]) - centre) < radius
        }
        relax(&values, free: free)
        return values
    }

    /// The scalar version of ``field(pinned:centre:radius:locked:)`` over an explicit set of free vertices.
    func scalarField(pinned: [Int: Float], free: [Int]) -> [Float] {
        var values = [SIMD3<Float>](repeating: .zero, count: points.count)
        for (i, v) in pinned { values[i] = SIMD3(v, 0, 0) }
        relax(&values, free: free.filter { pinned[$0] == nil && !neighbours[$0].isEmpty })
        return values.map(\.x)
    }

    private func relax(_ values: inout [SIMD3<Float>], free: [Int]) {
        guard !free.isEmpty else { return }
        let omega: Float = 1.8
        values.withUnsafeMutableBufferPointer { v in
            for _ in 0..<4000 {
                var change: Float = 0
                for i in free {
                    var sum = SIMD3<Float>.zero
                    let ns = neighbours[i]
                    for n in ns { sum += v[n] }
                    let target = sum / Float(ns.count)
                    let step = (target - v[i]) * omega
                    v[i] += step
                    change = max(change, max(abs(step.x), abs(step.y), abs(step.z)))
                }
                if change < 1e-4 { break }
            }
        }
    }

    /// A sparse target from a dense displacement field: vertices moving less than 0.01 px are left out; iris
    /// points outside the eye openings move like their eye's nearest mesh vertex.
    func target(_ name: String, _ dense: [SIMD3<Float>]) -> RigTarget {
        var values = dense
        for o in orphans {
            var best = -1
            var bestDistance = Float.infinity
            for i in 0..<FaceTopology.refinedLandmarkCount where !neighbours[i].isEmpty {
                let d = length(xy(points[i]) - xy(points[o]))
                if d < bestDistance { bestDistance = d; best = i }
            }
            if best >= 0 && values[o] == .zero { values[o] = values[best] }
        }
        var indices: [UInt32] = [], deltas: [SIMD3<Float>] = []
        for (i, d) in values.enumerated() where length(d) >= 0.01 && d.x.isFinite && d.y.isFinite && d.z.isFinite {
            indices.append(UInt32(i))
            deltas.append(d)
        }
        return RigTarget(name: name, indices: indices, deltas: deltas)
    }

    /// Dense field that is `value(i)` on the given vertices and zero elsewhere.
    func dense(_ pins: [Int: SIMD3<Float>]) -> [SIMD3<Float>] {
        var values = [SIMD3<Float>](repeating: .zero, count: points.count)
        for (i, v) in pins { values[i] = v }
        return values
    }

    /// A bump: `delta` at `centre`, falling smoothly to zero at `radius` (face and ring vertices).
    func bump(centre: SIMD2<Float>, radius: Float, delta: SIMD3<Float>) -> [SIMD3<Float>] {
        points.map { p in delta * falloff(length(xy(p) - centre) / radius) }
    }

    func xy2(_ i: Int) -> SIMD2<Float> { xy(points[i]) }
}
