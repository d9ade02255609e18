import Foundation
import ParlaMedia
import ParlaMotion
import ParlaRender
import XCTest
@testable import ParlaRuntime

/// `parla poses`: the fixed poses side by side.
final class PoseSheetTests: XCTestCase {
    func testSheetHoldsEveryPoseInOrderOnWhite() throws {
        let avatar = try RenderJobTests.avatar.get()
        let side = 96, pad = PoseSheet.padding, n = PoseSheet.poses.count
        let decoder = try CPUFrameDecoder(avatar: avatar, width: side, height: side)
        let row = try PoseSheet.render(with: decoder, columns: n)
        XCTAssertEqual(row.width, n * side + (n - 1) * pad)
        XCTAssertEqual(row.height, side)
        let sheet = try PoseSheet.render(with: decoder, columns: 3)
        XCTAssertEqual(sheet.width, 3 * side + 2 * pad)
        XCTAssertEqual(sheet.height, 3 * side + 2 * pad, "8 poses in rows of 3")
        func tile(_ k: Int) -> [UInt8] {
            let (x0, y0) = PoseSheet.origin(of: k, columns: 3, width: side, height: side)
            var out: [UInt8] = []
            for y in 0..<side {
                let start: Int = ((y0 + y) * sheet.width + x0) * 4
                out += sheet.pixels[start..<(start + side * 4)]
            }
            return out
        }
        for k in 0..<n {
            var expected = RGBAImage(width: side, height: side)
            try decoder.decode(PoseSheet.poses[k].frame, into: &expected)
            XCTAssertEqual(tile(k), expected.pixels, PoseSheet.poses[k].name)
            for j in 0..<k {
                let differing = zip(tile(j), tile(k)).filter { abs(Int($0) - Int($1)) > 16 }.count
                XCTAssertGreaterThan(differing, 40, "\(PoseSheet.poses[j].name) and \(PoseSheet.poses[k].name) look alike")
            }
        }
        // Padding and the unused last tile are white.
        var used = [Bool](repeating: false, count: sheet.width * sheet.height)
        for k in 0..<n {
            let (x0, y0) = PoseSheet.origin(of: k, columns: 3, width: side, height: side)
            for y in y0..<(y0 + side) { for x in x0..<(x0 + side) { used[y * sheet.width + x] = true } }
        }
        for i in used.indices where !used[i] {
            XCTAssertEqual(Array(sheet.pixels[(i * 4)..<(i * 4 + 4)]), [255, 255, 255, 255], "pixel \(i % sheet.width),\(i / sheet.width)")
        }
        XCTAssertEqual(PoseSheet.poses[0].frame.headYaw, 0)
        XCTAssertLessThan(PoseSheet.poses.map(\.frame.headYaw).min()!, -0.2, "the head turns left")
        XCTAssertGreaterThan(PoseSheet.poses.map(\.frame.headYaw).max()!, 0.2, "and right")
    }
}
