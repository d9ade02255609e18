import Foundation

/// The anti-aliasing / anti-imaging low-pass filter used to convert between two sample rates: a Kaiser-windowed
/// sinc, evaluated in units of input samples.
///
/// Passband flat to 0.9 × the lower Nyquist frequency, stopband from the lower Nyquist frequency on, at least
/// ``stopbandAttenuation`` dB down (so nothing above the output Nyquist aliases back when downsampling, and
/// no spectral image survives when upsampling). Both the fast polyphase path and the scalar reference
/// evaluate this same kernel.
public struct ResamplerDesign: Sendable, Equatable {
    /// Input rate in Hz.
    public let inputRate: Int
    /// Output rate in Hz.
    public let outputRate: Int
    /// Interpolation factor L = outputRate / gcd.
    public let upFactor: Int
    /// Decimation factor M = inputRate / gcd.
    public let downFactor: Int
    /// Cut-off (middle of the transition band) in cycles per input sample.
    public let cutoff: Double
    /// Half the kernel's support, in input samples: taps with |t| ≥ halfWidth are zero.
    public let halfWidth: Double
    /// Kaiser window shape parameter β.
    public let beta: Double

    /// Design stopband attenuation in dB (the Kaiser formula's target; measured ≥ 60 dB in tests).
    public static let stopbandAttenuation = 70.0
    /// Passband edge as a fraction of the lower Nyquist frequency.
    public static let passbandEdge = 0.9

    /// Designs the filter for converting `inputRate` to `outputRate` (both positive).
    public init(inputRate: Int, outputRate: Int) {
        precondition(inputRate > 0 && outputRate > 0, "sample rates must be positive")
        self.inputRate = inputRate
        self.outputRate = outputRate
        let g = greatestCommonDivisor(inputRate, outputRate)
        upFactor = outputRate / g
        downFactor = inputRate / g
        let nyquist = Double(min(inputRate, outputRate)) / 2
        let passband = ResamplerDesign.passbandEdge * nyquist
        let transition = (nyquist - passband) / Double(inputRate)  // cycles per input sample
        cutoff = (passband + nyquist) / 2 / Double(inputRate)
        let attenuation = ResamplerDesign.stopbandAttenuation
        beta = 0.1102 * (attenuation - 8.7)
        // Kaiser's estimate of the filter order for this attenuation and transition width.
        let order = (attenuation - 7.95) / (2.285 * 2 * Double.pi * transition)
        halfWidth = order / 2
    }

    /// Number of input samples on each side of the output position that can carry weight.
    public var tapsPerSide: Int { Int(halfWidth.rounded(.up)) }

    /// The (unnormalised) kernel at offset `t` input samples from the output position.
    public func kernel(_ t: Double) -> Double {
        let u = t / halfWidth
        if abs(u) >= 1 { return 0 }
        let x = 2 * cutoff * t
        let sinc = x == 0 ? 1 : sin(Double.pi * x) / (Double.pi * x)
        return sinc * besselI0(beta * (1 - u * u).squareRoot()) / besselI0(beta)
    }

    /// Output length for `inputCount` samples: round(inputCount · outputRate / inputRate), halves rounding up.
    public func outputCount(forInputCount inputCount: Int) -> Int {
        // (2·n·L + M) / (2·M) in 128-bit intermediate arithmetic, so no rate pair can overflow.
        let product = (2 * inputCount).multipliedFullWidth(by: upFactor)
        let (low, carry) = product.low.addingReportingOverflow(UInt(downFactor))
        let high = product.high + (carry ? 1 : 0)
        let (quotient, _) = (2 * downFactor).dividingFullWidth((high: high, low: low))
        return quotient
    }
}

/// Modified Bessel function of the first kind, order 0 (power series; converges fast for the β used here).
func besselI0(_ x: Double) -> Double {
    var sum = 1.0, term = 1.0
    let q = x * x / 4
    var k = 1.0
    while term > 1e-17 * sum {
        term *= q / (k * k)
        sum += term
        k += 1
    }
    return sum
}

func greatestCommonDivisor(_ a: Int, _ b: Int) -> Int {
    var (a, b) = (a, b)
    while b != 0 { (a, b) = (b, a % b) }
    return a
}
