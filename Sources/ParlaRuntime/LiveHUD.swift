import Foundation

/// The figures of the `--hud` stats overlay and the text lines drawn for them: frame rate over the last
/// pictures, frame time (decode + scale), lag, dropped frames and the CPU temperature where the kernel reports one.
public struct LiveHUD: Sendable {
    /// What the overlay shows.
    public struct Reading: Sendable, Equatable {
        /// Pictures per second over the recent ones.
        public var fps: Double
        /// Decode + scale time of the last picture, milliseconds.
        public var frameMilliseconds: Double
        /// How far the picture trails the sound, milliseconds: with a clip, sound position minus picture time at
        /// the last flip; with the microphone, the sound-to-photon estimate. Nil until known.
        public var lagMilliseconds: Double?
        /// Frame slots passed without being shown, since the start.
        public var dropped: Int
        /// CPU temperature in °C, nil where none is readable.
        public var cpuCelsius: Double?

        public init(fps: Double, frameMilliseconds: Double, lagMilliseconds: Double?, dropped: Int, cpuCelsius: Double?) {
            self.fps = fps
            self.frameMilliseconds = frameMilliseconds
            self.lagMilliseconds = lagMilliseconds
            self.dropped = dropped
            self.cpuCelsius = cpuCelsius
        }
    }

    /// The overlay's lines for `reading`.
    public static func lines(_ r: Reading) -> [String] {
        var lines = [
            String(format: "FPS %.1f  FRAME %.1f MS", r.fps, r.frameMilliseconds),
            (r.lagMilliseconds.map { String(format: "LAG %.0f MS", $0) } ?? "LAG -") + "  DROPPED \(r.dropped)",
        ]
        if let t = r.cpuCelsius { lines.append(String(format: "CPU %.0f C", t)) }
        return lines
    }

    private var flipTimes: [Double] = []
    private var temperature: CPUTemperature
    private var temperatureReadAt = -Double.infinity
    private var celsius: Double?
    /// Recent pictures the frame rate is measured over.
    static let window = 16

    /// A meter reading temperatures through `temperature`.
    public init(temperature: CPUTemperature = CPUTemperature()) {
        self.temperature = temperature
    }

    /// Records a picture that reached the screen at `time` (CLOCK_MONOTONIC seconds).
    public mutating func recordFlip(at time: Double) {
        if flipTimes.count == Self.window { flipTimes.removeFirst() }
        flipTimes.append(time)
    }

    /// The current reading (the temperature is read at most once a second).
    public mutating func reading(now: Double, frameSeconds: Double, lagSeconds: Double?, dropped: Int) -> Reading {
        if now - temperatureReadAt >= 1 {
            celsius = temperature.read()
            temperatureReadAt = now
        }
        var fps = 0.0
        if flipTimes.count >= 2, let first = flipTimes.first, let last = flipTimes.last, last > first {
            fps = Double(flipTimes.count - 1) / (last - first)
        }
        return Reading(fps: fps, frameMilliseconds: frameSeconds * 1000, lagMilliseconds: lagSeconds.map { $0 * 1000 },
                       dropped: dropped, cpuCelsius: celsius)
    }
}

/// The CPU temperature from the kernel's thermal zones (`/sys/class/thermal/thermal_zone*/temp`, millidegrees):
/// the zone whose type names the CPU or SoC (`cpu-thermal`, `soc-thermal`, `x86_pkg_temp`, …), else the first zone.
public struct CPUTemperature: Sendable {
    /// The folder holding `thermal_zone*` (tests point this at a fake).
    public let root: String

    public init(root: String = "/sys/class/thermal") {
        self.root = root
    }

    /// °C, or nil when no zone is readable.
    public func read() -> Double? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: root) else { return nil }
        let zones = names.filter { $0.hasPrefix("thermal_zone") }.sorted {
            (Int($0.dropFirst(12)) ?? 0) < (Int($1.dropFirst(12)) ?? 0)
        }
        func text(_ zone: String, _ file: String) -> String? {
            (try? String(contentsOfFile: "\(root)/\(zone)/\(file)", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func celsius(_ zone: String) -> Double? {
            guard let t = text(zone, "temp"), let milli = Double(t) else { return nil }
            return milli / 1000
        }
        let cpuLike = zones.first { zone in
            guard let type = text(zone, "type")?.lowercased() else { return false }
            return ["cpu", "soc", "x86_pkg", "package"].contains { type.contains($0) }
        }
        if let zone = cpuLike, let c = celsius(zone) { return c }
        return zones.lazy.compactMap(celsius).first
    }
}
