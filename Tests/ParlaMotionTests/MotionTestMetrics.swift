import Foundation
@testable import ParlaMotion

/// Measurements on frame sequences shared by the composer tests.
enum MotionTestMetrics {
    /// Every mouth-related blendshape (jaw, mouth*, cheeks, tongue).
    static let mouthShapes: [Blendshape] = Blendshape.allCases.filter {
        $0.name.hasPrefix("mouth") || $0.name.hasPrefix("jaw") || $0 == .cheekPuff || $0 == .tongueOut
    }

    static func track(_ frames: [MotionFrame], _ shape: Blendshape) -> [Float] {
        frames.map { $0.blendshapes[shape] }
    }

    /// Pearson correlation of a and b shifted by `lag` samples (b[i] against a[i + lag]).
    static func correlation(_ a: [Double], _ b: [Double], lag: Int) -> Double {
        var xs = [Double](), ys = [Double]()
        for i in b.indices where i + lag >= 0 && i + lag < a.count {
            xs.append(a[i + lag])
            ys.append(b[i])
        }
        let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (x, y) in zip(xs, ys) {
            sxy += (x - mx) * (y - my)
            sxx += (x - mx) * (x - mx)
            syy += (y - my) * (y - my)
        }
        return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : 0
    }

    /// The largest |second difference| of a track.
    static func maxSecondDifference(_ x: [Float]) -> Float {
        guard x.count >= 3 else { return 0 }
        var m: Float = 0
        for i in 1..<(x.count - 1) { m = max(m, abs(x[i + 1] - 2 * x[i] + x[i - 1])) }
        return m
    }

    /// Frame indices where the track first exceeds `threshold` after being below it.
    static func risingCrossings(_ x: [Float], threshold: Float) -> [Int] {
        var result = [Int]()
        for i in x.indices where x[i] > threshold && (i == 0 || x[i - 1] <= threshold) { result.append(i) }
        return result
    }

    /// A one-line bar plot of `values` in [0, scale].
    static func sparkline(_ values: [Double], scale: Double) -> String {
        let glyphs = Array(" ▁▂▃▄▅▆▇█")
        return String(values.map { glyphs[min(8, max(0, Int(($0 / scale * 8).rounded())))] })
    }
}
