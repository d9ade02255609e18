import Foundation

/// A token bucket per client address: `rate` requests per second on average, bursts of up to `burst`.
/// Pure arithmetic on times passed in, so it is testable without a clock.
public struct RateLimiter: Sendable {
    public let rate: Double
    public let burst: Double
    private var buckets: [String: (tokens: Double, time: Double)] = [:]

    public init(rate: Double, burst: Int) {
        self.rate = max(0.001, rate)
        self.burst = Double(max(1, burst))
    }

    /// Takes one token for `client` at `now` (seconds); false when its bucket is empty.
    public mutating func allow(_ client: String, now: Double) -> Bool {
        if buckets.count > 4096 { buckets = buckets.filter { now - $0.value.time < 60 } }   // forget idle clients
        var b = buckets[client] ?? (burst, now)
        b.tokens = min(burst, b.tokens + max(0, now - b.time) * rate)
        b.time = now
        let ok = b.tokens >= 1
        if ok { b.tokens -= 1 }
        buckets[client] = b
        return ok
    }
}
