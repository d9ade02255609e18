import Foundation
import ParlaMedia
import ParlaTestSupport
import XCTest
@testable import ParlaFace

/// Avatar invariants on the test portrait with the reference landmarks (no models needed).
final class AvatarBuilderTests: XCTestCase {
    nonisolated(unsafe) private static var cached: (image: RGBAImage, avatar: Avatar, analysis: FaceAnalysis)?

    static func built() throws -> (image: RGBAImage, avatar: Avatar, analysis: FaceAnalysis) {
        if let c = cached { return c }
        let image = try FaceFixtures.portrait()
        let analysis = try ReferenceLandmarks.load().analysis
        let start = Date()
        let avatar = try AvatarBuilder.build(image: image, analysis: analysis, source: "/some/dir/grace_hopper.jpg",
                                             segmenter: PersonSegmenter())
        print("AvatarBuilder.build: \(String(format: "%.1f", Date().timeIntervalSince(start) * 1000)) ms, "
              + "\(avatar.vertices.count) vertices, \(avatar.triangles.count) triangles, \(avatar.rig.count) targets")
        cached = (image, avatar, analysis)
        return (image, avatar, analysis)
    }

    /// Vertex positions with the given rig weights applied.
    static func posed(_ avatar: Avatar, _ weights: [String: Float]) -> [SIMD3<Float>] {
        var v = avatar.vertices
        for target in avatar.rig {
            guard let w = weights[target.name] else { continue }
            for (i, d) in zip(target.indices, target.deltas) { v[Int(i)] += d * w }
        }
        return v
    }

    static func doubleArea(_ v: [SIMD3<Float>], _ t: SIMD3<UInt32>) -> Float {
        let a = v[Int(t.x)], b = v[Int(t.y)], c = v[Int(t.z)]
        return (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x)
    }

    static func mouthPolygon(_ v: [SIMD3<Float>]) -> [SIMD2<Float>] {
        (FaceTopology.innerLipUpper + FaceTopology.innerLipLower.dropFirst().dropLast().reversed()).map { SIMD2(v[$0].x, v[$0].y) }
    }

    /// Pixels covered 0 times must all be inside (or on the edge of) the mouth opening; every other pixel exactly once.
    private func assertCoverage(_ vertices: [SIMD3<Float>], _ avatar: Avatar, line: UInt = #line) -> Int {
        let side = avatar.texture.width
        let counts = CoverageRaster.count(vertices: vertices, triangles: avatar.triangles, side: side)
        let mouth = AvatarBuilderTests.mouthPolygon(vertices)
        var holes = 0, over = 0, strayHoles = 0
        for y in 0..<side {
            for x in 0..<side {
                switch counts[y * side + x] {
                case 1: continue
                case 0:
                    holes += 1
                    let p = SIMD2(Float(x) + 0.5, Float(y) + 0.5)
                    if !polygonContains(mouth, p) && distance(p, toPolygon: mouth) > 0.01 { strayHoles += 1 }
                default: over += 1
                }
            }
        }
        XCTAssertEqual(over, 0, "pixels covered more than once", line: line)
        XCTAssertEqual(strayHoles, 0, "uncovered pixels outside the mouth opening", line: line)
        return holes
    }

    private func distance(_ p: SIMD2<Float>, toPolygon poly: [SIMD2<Float>]) -> Float {
        var best = Float.infinity
        for i in poly.indices {
            let a = poly[i], b = poly[(i + 1) % poly.count], d = b - a
            let t = min(max(((p - a) * d).sum() / max((d * d).sum(), 1e-12), 0), 1)
            let e = p - (a + d * t)
            best = min(best, (e * e).sum().squareRoot())
        }
        return best
    }

    func testEveryTexturePixelOutsideTheMouthIsCoveredExactlyOnce() throws {
        let (_, avatar, _) = try AvatarBuilderTests.built()
        XCTAssertTrue(avatar.triangles.allSatisfy { AvatarBuilderTests.doubleArea(avatar.vertices, $0) > 0 },
                      "every triangle clockwise with positive area")
        _ = assertCoverage(avatar.vertices, avatar)
    }

    func testTheMouthOpensWithJawOpenAndStaysAHole() throws {
        let (_, avatar, _) = try AvatarBuilderTests.built()
        let restHoles = assertCoverage(avatar.vertices, avatar)
        let open = AvatarBuilderTests.posed(avatar, ["jawOpen": 1])
        let openHoles = assertCoverage(open, avatar)
        let mw = avatar.vertices[FaceTopology.leftMouthCorner].x - avatar.vertices[FaceTopology.rightMouthCorner].x
        XCTAssertGreaterThan(Float(openHoles), 0.25 * mw * mw, "an open mouth leaves a large hole (\(restHoles) → \(openHoles) px)")
        // No triangle lies inside the mouth: none has all three corners on the inner-lip contour.
        let inner = Set(FaceTopology.innerLipUpper + FaceTopology.innerLipLower)
        XCTAssertFalse(avatar.triangles.contains { inner.contains(Int($0.x)) && inner.contains(Int($0.y)) && inner.contains(Int($0.z)) })
    }

    func testFramingCentresTheFaceAtTheAgreedProportions() throws {
        let (image, avatar, analysis) = try AvatarBuilderTests.built()
        let framing = AvatarBuilder.framing(for: analysis)
        XCTAssertTrue(framing.isInside(width: image.width, height: image.height))
        XCTAssertEqual(avatar.texture.width, framing.side)
        XCTAssertEqual(avatar.texture.height, framing.side)
        let oval = FaceTopology.faceOval.map { avatar.vertices[$0] }
        let minX = oval.map(\.x).min()!, maxX = oval.map(\.x).max()!
        let side = Float(avatar.texture.width)
        XCTAssertEqual((maxX - minX) / side, AvatarBuilder.faceWidthFraction, accuracy: 0.02)
        XCTAssertEqual((minX + maxX) / 2 / side, 0.5, accuracy: 0.02)
        let eyes = (avatar.vertices[FaceTopology.rightIris[0]].y + avatar.vertices[FaceTopology.leftIris[0]].y) / 2
        XCTAssertEqual(eyes / side, AvatarBuilder.eyeHeightFraction, accuracy: 0.02)
        // The texture is the portrait's pixels, unscaled.
        XCTAssertEqual(avatar.texture, image.cropped(x: framing.x, y: framing.y, width: framing.side, height: framing.side))
    }

    func testHeadWeightsPivotAndMetadata() throws {
        let (_, avatar, _) = try AvatarBuilderTests.built()
        let n = avatar.vertices.count
        XCTAssertEqual(avatar.headWeights.count, n)
        XCTAssertTrue(avatar.headWeights.prefix(FaceTopology.refinedLandmarkCount).allSatisfy { $0 == 1 })
        let side = Float(avatar.texture.width)
        for (i, v) in avatar.vertices.enumerated() {
            let onBorder = v.x == 0 || v.y == 0 || v.x == side || v.y == side
            if onBorder { XCTAssertEqual(avatar.headWeights[i], 0, "border vertex \(i) must not move") }
            XCTAssertTrue((0...1).contains(avatar.headWeights[i]))
        }
        let corners = avatar.vertices.filter { ($0.x == 0 || $0.x == side) && ($0.y == 0 || $0.y == side) }
        XCTAssertEqual(corners.count, 4, "the four texture corners are vertices")
        // Rings fall off outward: every ring point weighs less than the ring inside it on the same ray.
        let ringStart = FaceTopology.refinedLandmarkCount, ring = FaceTopology.faceOval.count
        for k in 0..<ring {
            let w = (0..<3).map { avatar.headWeights[ringStart + $0 * ring + k] }
            XCTAssertTrue(w[0] > w[1] && w[1] > w[2] && w[2] > 0 && w[0] < 1, "ring weights \(w)")
        }
        let nose = avatar.vertices[FaceTopology.noseTip]
        let cheeks = avatar.vertices[FaceTopology.leftCheekSide] - avatar.vertices[FaceTopology.rightCheekSide]
        let faceWidth = (cheeks.x * cheeks.x + cheeks.y * cheeks.y).squareRoot()
        XCTAssertEqual(avatar.headPivot.z - nose.z, 0.55 * faceWidth, accuracy: 1e-3)
        XCTAssertEqual(avatar.headPivot.x, nose.x, accuracy: 0.1 * faceWidth)
        XCTAssertEqual(avatar.metadata["source"], "grace_hopper.jpg")
        XCTAssertEqual(avatar.metadata["source.size"], "512x600")
        XCTAssertNotNil(avatar.metadata["framing"])
        XCTAssertEqual(avatar.metadata["face.models"], "reference")
        XCTAssertNotNil(avatar.metadata["command"])
    }

    /// Depth only steers posing: near the face oval it is lowered until it rises at most one pixel per pixel toward
    /// the oval (MediaPipe's steep cheek silhouette would otherwise smear in front of the ears under a turn); nowhere
    /// is it raised, and away from the oval (the nose) it is MediaPipe's.
    func testDepthRisesAtMostOnePixelPerPixelTowardTheOval() throws {
        let (_, avatar, analysis) = try AvatarBuilderTests.built()
        let framing = AvatarBuilder.framing(for: analysis)
        let original = analysis.landmarks.map { framing.toTexture($0) }
        var lowered = 0
        for i in 0..<FaceTopology.landmarkCount {
            XCTAssertLessThanOrEqual(avatar.vertices[i].z, original[i].z + 1e-3, "landmark \(i)")
            if avatar.vertices[i].z < original[i].z - 0.5 { lowered += 1 }
        }
        XCTAssertGreaterThan(lowered, 20, "the cheek silhouette is flattened")
        XCTAssertEqual(avatar.vertices[FaceTopology.noseTip].z, original[FaceTopology.noseTip].z)
        let oval = Set(FaceTopology.faceOval)
        for t in FaceTopology.triangles {
            for (a, b) in [(Int(t.x), Int(t.y)), (Int(t.y), Int(t.z)), (Int(t.z), Int(t.x))] {
                for (inner, outer) in [(a, b), (b, a)] where oval.contains(outer) {
                    let p = avatar.vertices[inner], q = avatar.vertices[outer]
                    let distance = ((p.x - q.x) * (p.x - q.x) + (p.y - q.y) * (p.y - q.y)).squareRoot()
                    XCTAssertLessThanOrEqual(q.z - p.z, distance + 1e-3, "edge \(inner)-\(outer)")
                }
            }
        }
    }

    func testRigNamesAreARKitNamesAndIndicesAreValid() throws {
        let (_, avatar, _) = try AvatarBuilderTests.built()
        let names = avatar.rig.map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "no duplicate targets")
        for name in names { XCTAssertTrue(FaceFixtures.arkitNames.contains(name), "\(name) is not an ARKit blendshape") }
        let required = ["jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthRollLower", "mouthRollUpper", "browInnerUp",
                        "cheekPuff"] + ["Left", "Right"].flatMap { s in
            ["mouthSmile", "mouthFrown", "mouthStretch", "mouthLowerDown", "mouthUpperUp", "mouthPress", "eyeBlink", "eyeWide",
             "eyeSquint", "browOuterUp", "browDown", "eyeLookUp", "eyeLookDown", "eyeLookIn", "eyeLookOut"].map { $0 + s }
        }
        for name in required { XCTAssertTrue(names.contains(name), "missing \(name)") }
        for target in avatar.rig {
            XCTAssertFalse(target.indices.isEmpty, target.name)
            XCTAssertEqual(Set(target.indices).count, target.indices.count, target.name)
            XCTAssertTrue(target.indices.allSatisfy { Int($0) < avatar.vertices.count }, target.name)
            XCTAssertTrue(target.deltas.allSatisfy { $0.x.isFinite && $0.y.isFinite && $0.z.isFinite }, target.name)
        }
    }

    func testEyeBlinkClosesTheLidsExactly() throws {
        let (_, avatar, _) = try AvatarBuilderTests.built()
        for side in FaceTopology.Side.allCases {
            let closed = AvatarBuilderTests.posed(avatar, ["eyeBlink" + side.rawValue: 1])
            let upper = FaceTopology.eyeUpper(side), lower = FaceTopology.eyeLower(side)
            var opening: Float = 0
            for k in upper.indices {
                let gap = closed[upper[k]] - closed[lower[k]]
                XCTAssertLessThan((gap * gap).sum().squareRoot(), 1e-3, "\(side) lid pair \(k) meets")
                opening = max(opening, avatar.vertices[lower[k]].y - avatar.vertices[upper[k]].y)
            }
            XCTAssertGreaterThan(opening, 3, "the eye was open to begin with")
            // The upper lid travels most of the way; the lower lid rises a little.
            let mid = upper.count / 2
            let upperTravel = closed[upper[mid]].y - avatar.vertices[upper[mid]].y
            let lowerTravel = avatar.vertices[lower[mid]].y - closed[lower[mid]].y
            XCTAssertGreaterThan(upperTravel, 4 * lowerTravel)
            XCTAssertGreaterThan(lowerTravel, 0)
            // Lid skin above follows with falloff: the crease moves less than the lid, the brow not at all.
            let brow = FaceTopology.eyebrowLower(side)[2]
            XCTAssertEqual(closed[brow], avatar.vertices[brow])
        }
    }

    func testJawOpenWithMouthCloseBringsTheLipsTogether() throws {
        let (_, avatar, _) = try AvatarBuilderTests.built()
        for w: Float in [0.5, 1] {
            let v = AvatarBuilderTests.posed(avatar, ["jawOpen": w, "mouthClose": w])
            for k in 1..<(FaceTopology.innerLipUpper.count - 1) {
                let u = FaceTopology.innerLipUpper[k], l = FaceTopology.innerLipLower[k]
                let d = v[u] - v[l], rest = avatar.vertices[u] - avatar.vertices[l]
                if w == 1 {
                    XCTAssertLessThan((d * d).sum().squareRoot(), 1e-3, "inner lip pair \(k) meets")
                } else {
                    XCTAssertLessThanOrEqual((d * d).sum().squareRoot(), (rest * rest).sum().squareRoot() + 1e-3,
                                             "inner lip pair \(k) no wider apart than at rest")
                }
            }
            let lipDrop = v[FaceTopology.lowerLipCentre].y - avatar.vertices[FaceTopology.lowerLipCentre].y
            XCTAssertGreaterThan(lipDrop, 0, "the jaw stays somewhat open")
        }
        let open = AvatarBuilderTests.posed(avatar, ["jawOpen": 1])
        let mw = avatar.vertices[FaceTopology.leftMouthCorner].x - avatar.vertices[FaceTopology.rightMouthCorner].x
        let drop = open[FaceTopology.lowerLipCentre].y - avatar.vertices[FaceTopology.lowerLipCentre].y
        XCTAssertEqual(drop / mw, AvatarRig.jawOpenLipDrop, accuracy: 0.03)
        XCTAssertEqual(open[FaceTopology.upperLipCentre], avatar.vertices[FaceTopology.upperLipCentre], "upper lip stays")
        XCTAssertGreaterThan(open[FaceTopology.chin].y, avatar.vertices[FaceTopology.chin].y + 0.3 * drop, "chin goes down")
    }

    /// jawOpen arches the lower lip: its middle drops the full amount, the columns toward the corners less and
    /// less, the corners about a third of it and slightly inward. A lip dropped evenly (the old rig) opens the
    /// mouth as a rectangle with stretched skin at its sides.
    func testJawOpenArchesTheLowerLip() throws {
        let (_, avatar, _) = try AvatarBuilderTests.built()
        let rest = avatar.vertices, open = AvatarBuilderTests.posed(avatar, ["jawOpen": 1])
        let lower = FaceTopology.innerLipLower
        let drops = lower.map { open[$0].y - rest[$0].y }
        let middle = drops[lower.count / 2]
        let mw = rest[FaceTopology.leftMouthCorner].x - rest[FaceTopology.rightMouthCorner].x
        XCTAssertGreaterThan(middle, 0.4 * mw, "the middle of the lower lip drops")
        let rounded = drops.map { String(format: "%.1f", $0) }.joined(separator: " ")
        for k in [0, lower.count - 1] {
            XCTAssertLessThan(drops[k], 0.4 * middle, "corner \(k) drops far less than the middle (drops: \(rounded))")
            XCTAssertGreaterThan(drops[k], 0.15 * middle, "corner \(k) still drops a little (drops: \(rounded))")
        }
        for k in [1, lower.count - 2] {
            XCTAssertLessThan(drops[k], 0.85 * middle, "column \(k) next to the corner drops less (drops: \(rounded))")
        }
        for k in 0..<(lower.count / 2) {
            XCTAssertLessThanOrEqual(drops[k], drops[k + 1] + 0.05, "drops grow toward the middle (drops: \(rounded))")
            let j = lower.count - 1 - k
            XCTAssertLessThanOrEqual(drops[j], drops[j - 1] + 0.05, "drops grow toward the middle (drops: \(rounded))")
        }
        let corners = (FaceTopology.innerLipUpper.first!, FaceTopology.innerLipUpper.last!)
        let restWidth = rest[corners.1].x - rest[corners.0].x, openWidth = open[corners.1].x - open[corners.0].x
        XCTAssertLessThan(openWidth, restWidth - 0.02 * mw, "the corners come in as the jaw drops")
    }

    /// No target folds the mesh at weights 0.5 and 1 beyond sub-pixel slivers at the lip corners (signed area of
    /// every triangle ≥ -0.75 px²). Exceptions, each tested elsewhere: mouthClose alone (only meaningful with
    /// jawOpen, checked together), and at eyeBlink = 1 the eye-fill triangles, which collapse onto the closed lid.
    func testTargetsDoNotFoldTheMesh() throws {
        let (_, avatar, _) = try AvatarBuilderTests.built()
        func eyeFill(_ side: FaceTopology.Side) -> Set<Int> {
            let eye = Set(FaceTopology.eyeUpper(side) + FaceTopology.eyeLower(side) + FaceTopology.iris(side))
            return Set(avatar.triangles.indices.filter { k in
                let t = avatar.triangles[k]
                return k >= FaceTopology.triangles.count && [t.x, t.y, t.z].allSatisfy { eye.contains(Int($0)) }
            })
        }
        let fills: [String: Set<Int>] = ["eyeBlinkLeft@1": eyeFill(.left), "eyeBlinkRight@1": eyeFill(.right)]
        var poses: [(String, [String: Float])] = []
        for target in avatar.rig where target.name != "mouthClose" {
            poses += [(target.name + "@0.5", [target.name: 0.5]), (target.name + "@1", [target.name: 1])]
        }
        poses += [("jawOpen+mouthClose@0.5", ["jawOpen": 0.5, "mouthClose": 0.5]),
                  ("jawOpen+mouthClose@1", ["jawOpen": 1, "mouthClose": 1]),
                  ("smile+jawOpen", ["mouthSmileLeft": 1, "mouthSmileRight": 1, "jawOpen": 0.6]),
                  ("blink+lookDown", ["eyeBlinkLeft": 0.5, "eyeLookDownLeft": 1])]
        for (name, weights) in poses {
            let v = AvatarBuilderTests.posed(avatar, weights)
            let collapsing = fills[name] ?? []
            for (k, t) in avatar.triangles.enumerated() {
                let a = AvatarBuilderTests.doubleArea(v, t)
                if collapsing.contains(k) {
                    XCTAssertLessThan(abs(a), 6, "\(name): closed eye triangle \(t) collapses")
                } else {
                    XCTAssertGreaterThan(a, -1.5, "\(name): triangle \(t) folds")
                }
            }
        }
    }

    func testGazeMovesTheIrisWithinTheEye() throws {
        let (_, avatar, _) = try AvatarBuilderTests.built()
        for side in FaceTopology.Side.allCases {
            let centre = FaceTopology.iris(side)[0]
            let eyeWidth = abs(avatar.vertices[FaceTopology.eyeUpper(side)[0]].x - avatar.vertices[FaceTopology.eyeUpper(side).last!].x)
            let towardNose: Float = side == .left ? -1 : 1
            for (direction, expected) in [("In", SIMD2<Float>(towardNose, 0)), ("Out", SIMD2(-towardNose, 0)),
                                          ("Up", SIMD2(0, -1)), ("Down", SIMD2(0, 1))] {
                let v = AvatarBuilderTests.posed(avatar, ["eyeLook\(direction)\(side.rawValue)": 1])
                let moved = SIMD2(v[centre].x - avatar.vertices[centre].x, v[centre].y - avatar.vertices[centre].y)
                XCTAssertGreaterThan((moved * expected).sum(), 0.04 * eyeWidth, "\(side) \(direction)")
                XCTAssertLessThan((moved * moved).sum().squareRoot(), 0.2 * eyeWidth, "\(side) \(direction) stays in the eye")
            }
        }
    }

    func testLargePortraitGetsA1024TextureAndStillCoversExactlyOnce() throws {
        let (image, _, analysis) = try AvatarBuilderTests.built()
        let big = image.resized(width: image.width * 3, height: image.height * 3)
        var scaled = analysis
        scaled.imageWidth = big.width
        scaled.imageHeight = big.height
        scaled.landmarks = analysis.landmarks.map { $0 * 3 }
        let avatar = try AvatarBuilder.build(image: big, analysis: scaled, source: "big.jpg")
        XCTAssertEqual(avatar.texture.width, AvatarBuilder.maximumTextureSide)
        XCTAssertEqual(avatar.texture.height, AvatarBuilder.maximumTextureSide)
        _ = assertCoverage(avatar.vertices, avatar)
    }

    func testFaceAtThePictureEdgeIsEdgeReplicated() throws {
        let (image, _, analysis) = try AvatarBuilderTests.built()
        // Crop the portrait narrower than the square the face needs.
        let cut = 140
        let cropped = image.cropped(x: cut, y: 0, width: 250, height: image.height)
        var moved = analysis
        moved.imageWidth = cropped.width
        moved.landmarks = analysis.landmarks.map { $0 - SIMD3(Float(cut), 0, 0) }
        let framing = AvatarBuilder.framing(for: moved)
        XCTAssertLessThan(framing.x, 0, "the square reaches past the left edge")
        let avatar = try AvatarBuilder.build(image: cropped, analysis: moved, source: "edge.jpg")
        _ = assertCoverage(avatar.vertices, avatar)
        // The part left of the picture repeats its first column.
        let t = avatar.texture
        for y in stride(from: 0, to: t.height, by: 37) {
            let firstInside = -framing.x
            XCTAssertEqual(t.pixels[(y * t.width) * 4], t.pixels[(y * t.width + firstInside) * 4])
        }
    }

    func testBadAnalysisIsRefusedWithOneLine() throws {
        let (image, _, analysis) = try AvatarBuilderTests.built()
        var short = analysis
        short.landmarks.removeLast()
        XCTAssertThrowsError(try AvatarBuilder.build(image: image, analysis: short, source: "p.jpg")) { error in
            XCTAssertEqual((error as? FaceError)?.kind, .avatar)
            XCTAssertTrue("\(error)".hasPrefix("p.jpg: "))
            XCTAssertFalse("\(error)".contains("\n"))
        }
        var nan = analysis
        nan.landmarks[5].x = .nan
        XCTAssertThrowsError(try AvatarBuilder.build(image: image, analysis: nan, source: "p.jpg"))
        let other = RGBAImage(width: 20, height: 20)
        XCTAssertThrowsError(try AvatarBuilder.build(image: other, analysis: analysis, source: "p.jpg"))
    }

    /// The prepare path's person mask (selfie segmentation on the texture) covers the face and leaves the backdrop
    /// in the top corners out; the plate is the texture outside the grown person region, and inside it only mixes
    /// background colours (push-pull), smoothly.
    func testPreparedAvatarHasAPersonMaskOverTheFaceAndABackgroundPlate() throws {
        let (_, avatar, _) = try AvatarBuilderTests.built()
        let plate = try XCTUnwrap(avatar.background)
        let side = avatar.texture.width
        XCTAssertEqual([plate.width, plate.height], [side, side])
        func at(_ image: RGBAImage, _ x: Int, _ y: Int, _ c: Int) -> Int { Int(image.pixels[(y * side + x) * 4 + c]) }
        typealias T = FaceTopology
        // Built in steps: Swift 6.0.3 (the arm64 tier's toolchain) cannot type-check one long `+` chain in time.
        var features: [Int] = [T.noseTip, T.chin, T.foreheadTop]
        let lips: [[Int]] = [T.outerLipUpper, T.outerLipLower]
        let eyes: [[Int]] = [T.rightEyeUpper, T.rightEyeLower, T.leftEyeUpper, T.leftEyeLower]
        let brows: [[Int]] = [T.rightEyebrowUpper, T.leftEyebrowUpper]
        for part in lips + eyes + brows { features.append(contentsOf: part) }
        let lowest = features.map { at(plate, Int(avatar.vertices[$0].x), Int(avatar.vertices[$0].y), 3) }.min()!
        XCTAssertGreaterThanOrEqual(lowest, 250, "eyes, brows, nose, lips, chin and forehead are person")
        let landmarks = avatar.vertices.prefix(T.landmarkCount)
        let person = landmarks.filter { at(plate, Int($0.x), Int($0.y), 3) >= 128 }.count
        print("person mask: \(person) of \(landmarks.count) face-mesh landmarks at probability ≥ 0.5")
        XCTAssertGreaterThanOrEqual(Double(person), 0.97 * Double(landmarks.count), "the mask covers the face")
        XCTAssertLessThan(at(plate, 2, 2, 3), 26, "top-left backdrop")
        XCTAssertLessThan(at(plate, side - 3, 2, 3), 26, "top-right backdrop")
        XCTAssertNotNil(avatar.metadata["person.mask"])

        let mask = PersonMask(width: side, height: side, values: (0..<(side * side)).map { UInt8(plate.pixels[4 * $0 + 3]) })
        let region = BackgroundPlate.personRegion(mask, dilation: BackgroundPlate.dilation)
        var lo = SIMD3<Int>(repeating: 255), hi = SIMD3<Int>(repeating: 0)
        var kept = 0, filled = 0, steps = 0, stepTotal = 0
        for y in 0..<side {
            for x in 0..<side {
                let i = y * side + x
                let rgb = SIMD3(at(plate, x, y, 0), at(plate, x, y, 1), at(plate, x, y, 2))
                if !region[i] {
                    XCTAssertEqual(rgb, SIMD3(at(avatar.texture, x, y, 0), at(avatar.texture, x, y, 1), at(avatar.texture, x, y, 2)),
                                   "background kept at \(x),\(y)")
                    XCTAssertLessThan(mask.values[i], BackgroundPlate.personThreshold)
                    lo = pointwiseMin(lo, rgb)
                    hi = pointwiseMax(hi, rgb)
                    kept += 1
                } else {
                    filled += 1
                    if x + 1 < side, region[i + 1] {
                        for c in 0..<3 { stepTotal += abs(at(plate, x + 1, y, c) - at(plate, x, y, c)) }
                        steps += 3
                    }
                }
            }
        }
        XCTAssertGreaterThan(kept, side * side / 10)
        XCTAssertGreaterThan(filled, side * side / 4)
        // Inside: only mixtures of background colours, and smooth (mean step between neighbours).
        for y in 0..<side {
            for x in 0..<side where region[y * side + x] {
                let rgb = SIMD3(at(plate, x, y, 0), at(plate, x, y, 1), at(plate, x, y, 2))
                let above: Bool = all(rgb .>= lo &- 1), below: Bool = all(rgb .<= hi &+ 1)
                XCTAssertTrue(above && below, "filled \(rgb) at \(x),\(y) outside \(lo)...\(hi)")
            }
        }
        let meanStep = Double(stepTotal) / Double(max(steps, 1))
        print("background plate: \(filled) px filled, \(kept) kept, mean step inside \(String(format: "%.3f", meanStep)) levels")
        XCTAssertLessThan(meanStep, 1.0)
        let nose = avatar.vertices[1]
        let noseDiff = (0..<3).map { abs(at(plate, Int(nose.x), Int(nose.y), $0) - at(avatar.texture, Int(nose.x), Int(nose.y), $0)) }
        XCTAssertGreaterThan(noseDiff.reduce(0, +), 30, "the face is gone from the plate")
    }

    func testBuiltAvatarRoundTripsThroughTheFileExactly() throws {
        let (_, avatar, _) = try AvatarBuilderTests.built()
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("grace.avatar")
        try AvatarFile.write(avatar, to: url)
        let start = Date()
        let back = try AvatarFile.read(contentsOf: url)
        let ms = Date().timeIntervalSince(start) * 1000
        print("avatar file: \(try FileManager.default.attributesOfItem(atPath: url.path)[.size]!) bytes, read in \(String(format: "%.2f", ms)) ms")
        XCTAssertEqual(back.texture, avatar.texture)
        XCTAssertEqual(back.vertices, avatar.vertices)
        XCTAssertEqual(back.triangles, avatar.triangles)
        XCTAssertEqual(back.headWeights, avatar.headWeights)
        XCTAssertEqual(back.headPivot, avatar.headPivot)
        XCTAssertEqual(back.rig, avatar.rig)
        XCTAssertEqual(back.metadata, avatar.metadata)
        XCTAssertNotNil(avatar.background)
        XCTAssertEqual(back.background, avatar.background)
        // Every truncation is refused with one line.
        let bytes = try AvatarFile.encode(avatar)
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 97)) {
            XCTAssertThrowsError(try AvatarFile.decode(Array(bytes.prefix(cut)), name: "t.avatar")) { error in
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }

    func testAvatarDebugOverlayDrawsTheMesh() throws {
        let (_, avatar, _) = try AvatarBuilderTests.built()
        let overlay = FaceDebugDrawing.meshOverlay(avatar: avatar)
        XCTAssertEqual(overlay.width, avatar.texture.width)
        let changed = zip(overlay.pixels, avatar.texture.pixels).filter { $0 != $1 }.count
        XCTAssertGreaterThan(changed, overlay.pixels.count / 20)
        try ImageCodec.writePNG(overlay, to: FaceFixtures.debugURL("grace_hopper_avatar_mesh.png"))
    }
}
