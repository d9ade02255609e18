import Foundation

/// Jaw and mouth targets.
extension AvatarRig {
    /// Inner lower lip (centre) drop at jawOpen = 1, in mouth widths.
    static let jawOpenLipDrop: Float = 0.5
    /// Jaw hinge below the ear-level face-oval points and behind them, in face widths.
    static let hingeDrop: Float = 0.1
    static let hingeDepth: Float = 0.15

    /// Centre of the mouth (between the inner-lip centres), texture pixels.
    var mouthCentre: SIMD2<Float> { (xy2(FaceTopology.upperLipCentre) + xy2(FaceTopology.lowerLipCentre)) / 2 }

    /// 0 → 1 from the other half of the mouth to this side's half.
    static func sideWeight(_ across: Float, _ side: FaceTopology.Side) -> Float {
        AvatarMesh.smooth((FaceFrame.sign(side) * across + 0.35) / 0.7)
    }
    /// 0 in the middle of the mouth, 1 at this side's corner (squared ramp).
    static func cornerRamp(_ across: Float, _ side: FaceTopology.Side) -> Float {
        let t = max(0, FaceFrame.sign(side) * across)
        return min(t * t, 1)
    }

    // MARK: - Jaw

    /// Jaw weight of the mouth corners when the jaw opens: the corners are held by the cheek muscles and drop
    /// far less than the middle of the lower lip.
    static let jawOpenCornerWeight: Float = 0.3
    /// Inward pull of the lip corners at jawOpen = 1, in mouth widths (the mouth narrows as the jaw drops).
    static let jawOpenCornerInward: Float = 0.04

    /// Jaw weight of a lower-lip point when the jaw opens, from its place `t` along its ring's lower row (0 in
    /// the middle of the mouth, ±1 at that ring's corners): 1 in the middle, falling along a quarter ellipse to
    /// `corner` at the corners. The lower lip arches: the opening is a rounded shape, not the rectangle a
    /// uniformly dropped lip makes. Every ring uses its own corners, so a column of the (thin) lip keeps one
    /// weight and its triangles are not sheared.
    static func lowerLipWeight(_ t: Float, corner: Float) -> Float {
        let x = min(abs(t), 1)
        return corner + (1 - corner) * (1 - x * x).squareRoot()
    }

    /// How much each vertex follows the jaw: 0 on the upper lip and the face above it, 1 on the chin,
    /// `lowerLip(t)` on the lower lip rows (t along the ring, as ``lowerLipWeight(_:corner:)``), `cornerWeight`
    /// on the corner columns, harmonic in between (cheeks, jaw line, the neck ring under the chin). The skin just
    /// under the lower lip moves like the outer lip above it and reaches the chin's full weight 0.3 mouth widths
    /// further down.
    func jawWeights(_ lips: LipCoordinates, cornerWeight: Float, lowerLip: (Float) -> Float = { _ in 1 }) -> [Float] {
        let vUpperLipTop = local[0].y
        let vLowerLipBottom = local[17].y
        let half = frame.mouthWidth / 2
        var pinned: [Int: Float] = [:]
        var free: [Int] = []
        for i in points.indices {
            let v = local[i].y
            if i >= mesh.ringStart {
                let ring = (i - mesh.ringStart) / mesh.ringSize
                if ring < 2 && i < mesh.borderStart && v > vUpperLipTop { free.append(i) } else { pinned[i] = 0 }
            } else if i >= FaceTopology.landmarkCount || v < vUpperLipTop - 0.02 * frame.faceWidth {
                pinned[i] = 0
            } else if v > vLowerLipBottom + 0.05 * frame.faceWidth && abs(local[i].x - frame.local(mouthCentre).x) < half {
                pinned[i] = 1
            } else {
                free.append(i)
            }
        }
        for i in lips.vertices(.upper) { pinned[i] = 0 }
        for i in lips.vertices(.lower) { pinned[i] = lowerLip(lips.alongRing(i)) }
        for i in lips.vertices(.corner) { pinned[i] = cornerWeight }
        // The skin under the lower lip, across the mouth's width, is carried by the jaw like the lip above it,
        // blending to the chin's full weight below.
        let outer = LipRows.rightCorners.count - 1
        for i in 0..<FaceTopology.landmarkCount where lips.part[i] == nil {
            let a = (local[i].x - lips.centreU) / lips.half
            let below = local[i].y - lips.outerLowerV(local[i].x)
            if abs(a) < 0.95 && below > 0 {
                let lip = lowerLip(lips.alongRing(outer, across: a))
                pinned[i] = lip + (1 - lip) * AvatarMesh.smooth(below / (0.3 * frame.mouthWidth))
            }
        }
        return scalarField(pinned: pinned, free: free)
    }

    /// Displacement of every vertex when the jaw turns by `angle` about the hinge (full weight everywhere).
    func jawRotation(_ angle: Float) -> [SIMD3<Float>] {
        let hinge2 = (local[FaceTopology.rightCheekSide] + local[FaceTopology.leftCheekSide]) / 2
        let vHinge = hinge2.y + AvatarRig.hingeDrop * frame.faceWidth
        let zHinge = (points[FaceTopology.rightCheekSide].z + points[FaceTopology.leftCheekSide].z) / 2
            + AvatarRig.hingeDepth * frame.faceWidth
        let c = cosf(angle), s = sinf(angle)
        return points.indices.map { i in
            let v = local[i].y - vHinge, z = points[i].z - zHinge
            let v2 = v * c - z * s, z2 = v * s + z * c
            return frame.vector(u: 0, v: v2 - v, z: z2 - z)
        }
    }

    /// The jaw angle that drops the inner lower lip centre by `jawOpenLipDrop` mouth widths.
    func jawOpenAngle() -> Float {
        let goal = AvatarRig.jawOpenLipDrop * frame.mouthWidth
        var lo: Float = 0, hi: Float = 1.2
        for _ in 0..<40 {
            let mid = (lo + hi) / 2
            let drop = dot(xy(jawRotation(mid)[FaceTopology.lowerLipCentre]), frame.ey)
            if drop < goal { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// `w` moves the jaw down by `rotation` (and `inward` pulls the lip corners in as it opens); `lateral`
    /// (corner columns at one half) moves it sideways, `even` (the whole lower lip and the corners at 1) forward.
    func jawTargets(rotation: [SIMD3<Float>], weights w: [Float], inward: [SIMD3<Float>], lateral: [Float],
                    even: [Float]) -> (open: [SIMD3<Float>], targets: [RigTarget])
    {
        let open = points.indices.map { rotation[$0] * w[$0] + inward[$0] }
        var result = [target("jawOpen", open)]
        for side in FaceTopology.Side.allCases {
            let shift = frame.vector(u: FaceFrame.sign(side) * 0.03 * frame.faceWidth, v: 0)
            result.append(target("jaw\(side.rawValue)", points.indices.map { shift * lateral[$0] }))
        }
        let forward = frame.vector(u: 0, v: 0.01 * frame.faceWidth, z: -0.05 * frame.faceWidth)
        result.append(target("jawForward", points.indices.map { forward * even[$0] }))
        return (open, result)
    }

    // MARK: - Mouth

    /// The closed-lips pose of a jaw that opens by `jawOpen` (a jaw carrying the whole lower lip evenly):
    /// everything the jaw moves near the mouth (weight 1 on the lips, fading out 0.5 → 0.8 mouth widths from the
    /// mouth centre) comes back up by 70 % of its jaw displacement; the upper lip comes down by the rest of the
    /// way (its rows together), so the inner lips touch exactly and the jaw stays 30 % open. Returned as the
    /// displacement to add to `jawOpen`.
    func mouthClose(_ lips: LipCoordinates, jawOpen: [SIMD3<Float>]) -> [SIMD3<Float>] {
        let innerU = FaceTopology.innerLipUpper, innerL = FaceTopology.innerLipLower
        let centre = mouthCentre, mw = frame.mouthWidth
        var pins: [Int: SIMD3<Float>] = [:]
        let upper = Set(lips.vertices(.upper))
        for i in points.indices where !upper.contains(i) && jawOpen[i] != .zero {
            let c: Float = lips.part[i] != nil ? 1 : falloff((length(xy2(i) - centre) / mw - 0.5) / 0.3)
            pins[i] = jawOpen[i] * (-0.7 * c)
        }
        // Upper lip: down by the gap plus 30 % of the lower lip's jaw drop, interpolated across the mouth.
        let down = innerU.indices.map { k in points[innerL[k]] - points[innerU[k]] + jawOpen[innerL[k]] * 0.3 }
        for i in upper { pins[i] = along(innerU, down, lips, at: lips.across[i]!) }
        for k in 1..<(innerU.count - 1) { pins[innerU[k]] = down[k] }
        var locked = Set<Int>()
        for i in points.indices where pins[i] == nil && local[i].y > local[17].y { locked.insert(i) }
        return field(pinned: pins, centre: centre, radius: 1.0 * mw, locked: locked)
    }

    /// A lip target: every lip vertex moves by `move(part, across, depth)`, the skin around follows harmonically
    /// within `reach` mouth widths of the mouth centre; with `holdChin` the chin below the lower lip stays put.
    func lipField(_ lips: LipCoordinates, reach: Float, holdChin: Bool = false,
                  extra: [Int: SIMD3<Float>] = [:],
                  _ move: (LipCoordinates.Part, Float, Float) -> SIMD3<Float>) -> [SIMD3<Float>] {
        lipFieldByVertex(lips, reach: reach, holdChin: holdChin, extra: extra) { i in
            move(lips.part[i]!, lips.across[i]!, lips.depth[i]!)
        }
    }

    /// ``lipField(_:reach:holdChin:extra:_:)`` with the move given per lip vertex.
    func lipFieldByVertex(_ lips: LipCoordinates, reach: Float, holdChin: Bool = false,
                          extra: [Int: SIMD3<Float>] = [:], _ move: (Int) -> SIMD3<Float>) -> [SIMD3<Float>] {
        var pins = extra
        for i in lips.all { pins[i] = move(i) }
        var locked = Set<Int>()
        if holdChin {
            let vBelow = local[17].y + 0.25 * frame.mouthWidth
            for i in 0..<FaceTopology.landmarkCount where local[i].y > vBelow { locked.insert(i) }
        }
        return field(pinned: pins, centre: mouthCentre, radius: reach * frame.mouthWidth, locked: locked)
    }

    /// Piecewise-linear interpolation of per-contour-point values at `across`.
    func along(_ contour: [Int], _ values: [SIMD3<Float>], _ lips: LipCoordinates, at a: Float) -> SIMD3<Float> {
        var pairs = zip(contour.map { lips.across[$0] ?? 0 }, values).map { ($0, $1) }
        pairs.sort { $0.0 < $1.0 }
        if a <= pairs[0].0 { return pairs[0].1 }
        for k in 0..<(pairs.count - 1) where a <= pairs[k + 1].0 {
            let span = pairs[k + 1].0 - pairs[k].0
            let t = span > 1e-6 ? (a - pairs[k].0) / span : 0
            return pairs[k].1 + (pairs[k + 1].1 - pairs[k].1) * t
        }
        return pairs[pairs.count - 1].1
    }

    func mouthTargets() -> [RigTarget] {
        let mw = frame.mouthWidth
        let lips = LipCoordinates(points: points, frame: frame)
        let opening = jawWeights(lips, cornerWeight: AvatarRig.jawOpenCornerWeight) { t in
            AvatarRig.lowerLipWeight(t, corner: AvatarRig.jawOpenCornerWeight)
        }
        // The corners come in (by (across)², so the middle of the lips keeps its place), the cheeks follow.
        let inward = lipField(lips, reach: 1.1) { _, a, _ in
            frame.vector(u: -a * abs(a) * AvatarRig.jawOpenCornerInward * mw, v: 0)
        }
        let flat = jawWeights(lips, cornerWeight: 1)
        let rotation = jawRotation(jawOpenAngle())
        let (jawOpen, jawTargets) = jawTargets(rotation: rotation, weights: opening, inward: inward,
                                               lateral: jawWeights(lips, cornerWeight: 0.5), even: flat)
        var result = jawTargets

        // mouthClose: with jawOpen = mouthClose = w the mouth takes w × the closed pose of a jaw that carries the
        // whole lower lip evenly (lips pressed into one flat line, as for m/b/p), whatever the arch of the open
        // mouth: mouthClose = closed pose − jawOpen.
        let flatOpen = points.indices.map { rotation[$0] * flat[$0] }
        let flatClose = mouthClose(lips, jawOpen: flatOpen)
        result.append(target("mouthClose", points.indices.map { flatOpen[$0] + flatClose[$0] - jawOpen[$0] }))

        // mouthFunnel: corners in, lips part into a rounded opening and push forward.
        result.append(target("mouthFunnel", lipField(lips, reach: 1.1) { part, a, d in
            let p = lips.profile(a)
            let v: Float = part == .upper ? -(0.05 + 0.03 * d) * mw * p : part == .lower ? (0.07 + 0.03 * d) * mw * p : 0
            return frame.vector(u: -a * 0.12 * mw, v: v, z: -0.12 * mw)
        }))
        // mouthPucker: lips gathered toward the centre (40 % narrower) and forward.
        result.append(target("mouthPucker", lipField(lips, reach: 1.2) { part, a, d in
            let v: Float = (part == .upper ? 0.03 : part == .lower ? -0.03 : 0) * mw * d * lips.profile(a)
            return frame.vector(u: -a * 0.2 * mw, v: v, z: -0.2 * mw * (0.5 + 0.5 * lips.profile(a)))
        }))

        for side in FaceTopology.Side.allCases {
            let s = FaceFrame.sign(side)
            func cornerTarget(_ name: String, _ corner: SIMD3<Float>, reach: Float, extra: [Int: SIMD3<Float>] = [:]) {
                result.append(target(name + side.rawValue, lipField(lips, reach: reach, extra: extra) { _, a, _ in
                    corner * AvatarRig.cornerRamp(a, side)
                }))
            }
            let cheek = side == .left ? 425 : 205
            cornerTarget("mouthSmile", frame.vector(u: s * 0.12 * mw, v: -0.1 * mw, z: 0.03 * mw), reach: 1.3,
                         extra: [cheek: frame.vector(u: s * 0.02 * mw, v: -0.05 * mw, z: -0.02 * mw)])
            cornerTarget("mouthFrown", frame.vector(u: s * 0.02 * mw, v: 0.1 * mw), reach: 1.2)
            cornerTarget("mouthStretch", frame.vector(u: s * 0.12 * mw, v: 0.03 * mw), reach: 1.2)
            cornerTarget("mouthDimple", frame.vector(u: s * 0.06 * mw, v: 0, z: 0.04 * mw), reach: 1.0)

            result.append(target("mouthLowerDown" + side.rawValue, lipField(lips, reach: 1.0) { part, a, _ in
                part == .lower ? frame.vector(u: 0, v: 0.1 * mw * AvatarRig.sideWeight(a, side) * lips.profile(a)) : .zero
            }))
            result.append(target("mouthUpperUp" + side.rawValue, lipField(lips, reach: 1.0) { part, a, _ in
                part == .upper ? frame.vector(u: 0, v: -0.08 * mw * AvatarRig.sideWeight(a, side) * lips.profile(a)) : .zero
            }))
            // Press: lips 25 % thinner on this side (outer edges move toward the slit).
            result.append(target("mouthPress" + side.rawValue, lipField(lips, reach: 1.0) { part, a, d in
                let w = AvatarRig.sideWeight(a, side) * lips.profile(a)
                let thin = 0.25 * d * w * 0.12 * mw
                return frame.vector(u: 0, v: part == .upper ? thin : part == .lower ? -thin : 0)
            }))
            result.append(target("mouth" + side.rawValue, lipField(lips, reach: 1.3) { _, _, _ in
                frame.vector(u: s * 0.1 * mw, v: 0)
            }))
        }
        // Rolls: the lip turns in, its outer edge coming 40 % of the way to the slit; the other lip stays.
        for (name, which) in [("mouthRollLower", LipCoordinates.Part.lower), ("mouthRollUpper", .upper)] {
            result.append(target(name, lipFieldByVertex(lips, reach: 0.9) { i in
                guard lips.part[i] == which else { return .zero }
                let p = lips.profile(lips.across[i]!)
                return frame.vector(u: 0, v: -0.4 * lips.offset[i]! * p, z: 0.04 * mw * p)
            }))
        }
        // Shrugs: one lip pushed up and forward.
        result.append(target("mouthShrugLower", lipField(lips, reach: 1.0) { part, a, _ in
            part == .lower ? frame.vector(u: 0, v: -0.05 * mw * lips.profile(a), z: -0.04 * mw) : .zero
        }))
        result.append(target("mouthShrugUpper", lipField(lips, reach: 1.0) { part, a, _ in
            part == .upper ? frame.vector(u: 0, v: -0.05 * mw * lips.profile(a), z: -0.04 * mw) : .zero
        }))
        return result
    }
}
