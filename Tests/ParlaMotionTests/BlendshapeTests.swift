import XCTest
@testable import ParlaMotion

final class BlendshapeTests: XCTestCase {
    func testThereAreFiftyTwoARKitNamesThatRoundTrip() {
        XCTAssertEqual(Blendshape.allCases.count, 52)
        for shape in Blendshape.allCases {
            XCTAssertEqual(Blendshape(name: shape.name), shape)
        }
        XCTAssertEqual(Blendshape.jawOpen.name, "jawOpen")
        XCTAssertNil(Blendshape(name: "JawOpen"))
    }

    func testWeightsClampToUnitRange() {
        var w = BlendshapeWeights()
        w[.jawOpen] = 1.7
        w[.mouthClose] = -0.2
        XCTAssertEqual(w[.jawOpen], 1)
        XCTAssertEqual(w[.mouthClose], 0)
    }
}
