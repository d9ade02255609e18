import Foundation
import ParlaRuntime

/// `GET /metrics` in the Prometheus text exposition format (version 0.0.4), written by hand: a dozen series do not
/// justify a metrics package in every build.
public enum PrometheusText {
    /// The exposition of `m` plus server counters and the CPU temperature (when the board has a thermal zone).
    public static func render(_ m: EngineMetrics, status: EngineStatus, requests: [String: Int], rejected: [String: Int],
                              cpuCelsius: Double?) -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ lines: [String]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for l in lines { out += l + "\n" }
        }
        func num(_ v: Double) -> String { v.isFinite ? String(format: "%.6g", v) : (v > 0 ? "+Inf" : "NaN") }
        metric("parla_fps", "gauge", "Frames drawn per second over the last second.", ["parla_fps \(num(m.fps))"])
        var hist = [String]()
        for (i, bound) in EngineMetrics.frameTimeBuckets.enumerated() {
            hist.append("parla_frame_seconds_bucket{le=\"\(num(bound))\"} \(m.frameTimeCounts[i])")
        }
        hist.append("parla_frame_seconds_bucket{le=\"+Inf\"} \(m.frameTimeCounts.last ?? 0)")
        hist.append("parla_frame_seconds_sum \(num(m.frameTimeSum))")
        hist.append("parla_frame_seconds_count \(m.frames)")
        metric("parla_frame_seconds", "histogram", "Time to draw one frame (motion, decode, cross-fade).", hist)
        metric("parla_lag_seconds", "gauge", "Sound-to-photon lag: from a frame being due to it being ready (median, last second).",
               ["parla_lag_seconds \(num(m.lagSeconds))"])
        metric("parla_frames_total", "counter", "Frames drawn.", ["parla_frames_total \(m.frames)"])
        metric("parla_dropped_frames_total", "counter", "Frame slots skipped because drawing fell behind.",
               ["parla_dropped_frames_total \(m.dropped)"])
        metric("parla_audio_xruns_total", "counter", "Audio underruns (xruns) of the playback device.", ["parla_audio_xruns_total \(m.xruns)"])
        metric("parla_utterances_total", "counter", "Utterances by what happened to them.", [
            "parla_utterances_total{event=\"started\"} \(m.utterancesStarted)",
            "parla_utterances_total{event=\"completed\"} \(m.utterancesCompleted)",
            "parla_utterances_total{event=\"interrupted\"} \(m.utterancesInterrupted)",
        ])
        metric("parla_speaking", "gauge", "1 while an utterance plays.", ["parla_speaking \(status.speaking ? 1 : 0)"])
        metric("parla_queue_length", "gauge", "Utterances waiting.", ["parla_queue_length \(status.queue)"])
        metric("parla_http_requests_total", "counter", "HTTP requests by route.",
               requests.sorted { $0.key < $1.key }.map { "parla_http_requests_total{route=\"\($0.key)\"} \($0.value)" })
        metric("parla_http_rejected_total", "counter", "Requests refused, by reason.",
               rejected.sorted { $0.key < $1.key }.map { "parla_http_rejected_total{reason=\"\($0.key)\"} \($0.value)" })
        if let cpuCelsius {
            metric("parla_cpu_temperature_celsius", "gauge", "CPU temperature.", ["parla_cpu_temperature_celsius \(num(cpuCelsius))"])
        }
        metric("parla_uptime_seconds", "gauge", "Seconds since the engine started.", ["parla_uptime_seconds \(num(status.uptime))"])
        return out
    }

    /// The hottest zone under `root` (`thermal_zone*/temp`, millidegrees), or nil where there is none (most VMs).
    public static func cpuTemperature(root: String = "/sys/class/thermal") -> Double? {
        guard let zones = try? FileManager.default.contentsOfDirectory(atPath: root) else { return nil }
        let readings = zones.filter { $0.hasPrefix("thermal_zone") }.compactMap { zone -> Double? in
            guard let text = try? String(contentsOfFile: "\(root)/\(zone)/temp", encoding: .utf8),
                  let milli = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
            return milli / 1000
        }
        return readings.max()
    }
}
