import Foundation

/// Small signal helpers used on hop-rate feature tracks (100 values per second, so none of this is hot).
enum SignalTools {
    /// The `p`-quantile (p in [0, 1]) of `values` by linear interpolation between order statistics; `fallback`
    /// when empty.
    static func percentile(_ values: [Float], _ p: Float, fallback: Float = 0) -> Float {
        guard !values.isEmpty else { return fallback }
        let sorted = values.sorted()
        let position = min(max(p, 0), 1) * Float(sorted.count - 1)
        let lower = Int(position)
        let upper = min(lower + 1, sorted.count - 1)
        let t = position - Float(lower)
        return sorted[lower] * (1 - t) + sorted[upper] * t
    }

    /// One-pole smoothing with separate time constants for rising and falling input:
    /// `y += (1 − e^(−Δt/τ))·(x − y)` with τ = attack when x > y, else release. Starts from 0.
    static func attackRelease(_ x: [Float], step: Double, attack: Double, release: Double) -> [Float] {
        let up = Float(1 - exp(-step / attack))
        let down = Float(1 - exp(-step / release))
        var y: Float = 0
        return x.map { v in
            y += (v > y ? up : down) * (v - y)
            return y
        }
    }

    /// Zero-phase Gaussian smoothing with standard deviation `sigma` seconds (kernel cut at ±3σ, edges
    /// renormalised).
    static func gaussianSmooth(_ x: [Float], step: Double, sigma: Double) -> [Float] {
        let radius = Int((3 * sigma / step).rounded(.up))
        guard radius > 0, !x.isEmpty else { return x }
        let kernel = (-radius...radius).map { Float(exp(-0.5 * pow(Double($0) * step / sigma, 2))) }
        var out = [Float](repeating: 0, count: x.count)
        for i in x.indices {
            var sum: Float = 0, weight: Float = 0
            let lo = max(0, i - radius), hi = min(x.count - 1, i + radius)
            for j in lo...hi {
                let w = kernel[j - i + radius]
                sum += w * x[j]
                weight += w
            }
            out[i] = sum / weight
        }
        return out
    }

    /// The track value at `time` seconds by linear interpolation between hops (`time = k·step`), clamped at the ends.
    static func sample(_ track: [Float], step: Double, at time: Double) -> Float {
        guard !track.isEmpty else { return 0 }
        let position = time / step
        if position <= 0 { return track[0] }
        let lower = Int(position)
        if lower >= track.count - 1 { return track[track.count - 1] }
        let t = Float(position - Double(lower))
        return track[lower] * (1 - t) + track[lower + 1] * t
    }

    /// 0 below `lower`, 1 above `upper`, linear between.
    @inline(__always)
    static func ramp(_ x: Float, _ lower: Float, _ upper: Float) -> Float {
        min(max((x - lower) / (upper - lower), 0), 1)
    }

    /// `3t² − 2t³` for t clamped to [0, 1].
    @inline(__always)
    static func smoothstep(_ t: Double) -> Double {
        let u = min(max(t, 0), 1)
        return u * u * (3 - 2 * u)
    }
}
