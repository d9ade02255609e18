import XCTest
@testable import ParlaFace

final class FaceTopologyTests: XCTestCase {
    func testTessellationUsesEveryLandmarkOnce() {
        let t = FaceTopology.triangles
        XCTAssertEqual(t.count, 852)
        let used = Set(t.flatMap { [$0.x, $0.y, $0.z] })
        XCTAssertEqual(used, Set((0..<UInt32(FaceTopology.landmarkCount))))
        XCTAssertEqual(Set(t.map { [$0.x, $0.y, $0.z].sorted() }).count, t.count, "no duplicate triangles")
    }

    func testOrientationIsConsistentAndTheOpeningsAreOvalEyesAndMouth() {
        var directed = Set<[UInt32]>()
        var undirected: [Set<UInt32>: Int] = [:]
        for t in FaceTopology.triangles {
            for (a, b) in [(t.x, t.y), (t.y, t.z), (t.z, t.x)] {
                XCTAssertTrue(directed.insert([a, b]).inserted, "edge \(a)→\(b) used twice in one direction")
                undirected[[a, b], default: 0] += 1
            }
        }
        XCTAssertTrue(undirected.values.allSatisfy { $0 <= 2 })
        // Boundary edges, as directed in their triangle.
        let boundary = directed.filter { undirected[Set($0)] == 1 }
        func loop(_ contour: [Int]) -> Set<[UInt32]> {
            Set(contour.indices.map { [UInt32(contour[$0]), UInt32(contour[($0 + 1) % contour.count])] })
        }
        // The outer boundary runs like faceOval (clockwise on screen).
        let oval = loop(FaceTopology.faceOval)
        XCTAssertTrue(oval.isSubset(of: boundary))
        let mouth = FaceTopology.innerLipUpper + FaceTopology.innerLipLower.dropFirst().dropLast().reversed()
        let right = FaceTopology.rightEyeUpper + FaceTopology.rightEyeLower.dropFirst().dropLast().reversed()
        let left = FaceTopology.leftEyeUpper + FaceTopology.leftEyeLower.dropFirst().dropLast().reversed()
        var holes = oval
        for contour in [mouth, right, left] {
            let forward = loop(contour), backward = loop(contour.reversed())
            XCTAssertTrue(forward.isSubset(of: boundary) || backward.isSubset(of: boundary))
            holes.formUnion(forward.isSubset(of: boundary) ? forward : backward)
        }
        XCTAssertEqual(holes, boundary, "no openings besides the face oval, the eyes and the mouth")
    }

    func testTrianglesRunClockwiseOnARealFace() throws {
        let p = try ReferenceLandmarks.load().landmarks
        let positive = FaceTopology.triangles.filter { t -> Bool in
            let a = p[Int(t.x)], b = p[Int(t.y)], c = p[Int(t.z)]
            let lhs = (b.x - a.x) * (c.y - a.y)
            let rhs = (b.y - a.y) * (c.x - a.x)
            return lhs - rhs > 0
        }.count
        // The 2D projection of the 3D mesh folds in a few places (nose wings, lip corners, cheek silhouette).
        XCTAssertGreaterThan(Double(positive) / Double(FaceTopology.triangles.count), 0.95)
    }

    func testLipRowsAreFourRingsOfNinePlusCorners() {
        XCTAssertEqual(LipRows.upper.count, 4)
        XCTAssertEqual(LipRows.lower.count, 4)
        XCTAssertTrue((LipRows.upper + LipRows.lower).allSatisfy { $0.count == 9 })
        XCTAssertEqual(LipRows.upper[0], Array(FaceTopology.innerLipUpper.dropFirst().dropLast()))
        XCTAssertEqual(LipRows.upper[3], Array(FaceTopology.outerLipUpper.dropFirst().dropLast()))
        XCTAssertEqual(LipRows.lower[3], Array(FaceTopology.outerLipLower.dropFirst().dropLast()))
        XCTAssertEqual(LipRows.rightCorners, [78, 62, 76, 61])
        XCTAssertEqual(LipRows.leftCorners, [308, 292, 306, 291])
        let all = LipRows.upper.flatMap { $0 } + LipRows.lower.flatMap { $0 } + LipRows.rightCorners + LipRows.leftCorners
        XCTAssertEqual(Set(all).count, 80)
    }
}
