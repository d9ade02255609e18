import Foundation

extension BenchReport {
    /// The report as a person reads it.
    public func text() -> String {
        var out: [String] = []
        func f(_ v: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", v) }
        out.append("parla bench \(parlaVersion): \(scenario)")
        out.append("board:    \(system.board ?? "unknown")" + (boardProfile.map { " (profile \($0))" } ?? " (no profile)"))
        out.append("cpu:      \(system.cpuModel ?? "unknown"), \(system.cpuCount) online"
                   + (system.cpuFeatures.isEmpty ? "" : " [\(system.cpuFeatures.joined(separator: " "))]"))
        out.append("kernel:   \(system.kernel)" + (system.emulated.map { "  (emulated: \($0))" } ?? ""))
        out.append("content:  \(frames) frames, \(f(audioSeconds, 2)) s at \(width)x\(height) @ \(f(fps, 0)) fps")
        out.append("")
        out.append("stage        total ms   ms/frame   note")
        for s in stages {
            let total = s.ms.map { String(format: "%9.1f", $0) } ?? "        -"
            let per = s.perFrameMs.map { String(format: "%10.2f", $0) } ?? "          "
            out.append(s.name.padding(toLength: 11, withPad: " ", startingAt: 0) + total + " " + per + "   " + s.note)
        }
        out.append("")
        let ft = frameTimes
        out.append("frame time (decode + present), ms: mean \(f(ft.meanMs, 2))  p50 \(f(ft.p50Ms, 2))  p90 \(f(ft.p90Ms, 2))  "
                   + "p99 \(f(ft.p99Ms, 2))  max \(f(ft.maxMs, 2))")
        out.append("fps: mean \(f(ft.fpsMean))  1% low \(f(ft.fpsP1Low))  (the scenario needs \(f(fps, 0)))")
        if let budget = frameBudgetMs {
            let verdict = ft.p99Ms <= budget ? "within" : "OVER"
            out.append("board budget: p99 \(f(ft.p99Ms, 2)) ms against \(f(budget)) ms: \(verdict)")
        }
        let p = soundToPhoton
        out.append("sound-to-photon estimate (live --mic): \(f(p.totalMs)) ms = capture \(f(p.capturePeriodMs)) + look-ahead \(f(p.lookAheadMs))"
                   + " + frame p50 \(f(p.frameP50Ms)) + scan-out \(f(p.scanoutMs)) (plus the sound device's buffer)")
        out.append("cpu load during the render loop, % per core: "
                   + (cpuLoadPercent.isEmpty ? "not readable" : cpuLoadPercent.map { String(format: "%.0f", $0) }.joined(separator: " ")))
        out.append("peak RSS: \(f(peakRSSMiB)) MiB")
        out.append("thermal: " + Self.describe(thermalStart) + " → " + Self.describe(thermalEnd))
        out.append("panel: \(panel)")
        return out.joined(separator: "\n")
    }

    static func describe(_ t: ThermalState) -> String {
        var parts: [String] = []
        if let c = t.temperatureC { parts.append(String(format: "%.1f °C (%@)", c, (t.zone ?? "?") as NSString)) }
        if let mhz = t.cpuMHz {
            parts.append(String(format: "%.0f MHz", mhz) + (t.maxMHz.map { String(format: " of %.0f", $0) } ?? ""))
        }
        if let flags = t.throttledFlags { parts.append("throttled \(flags)" + (t.throttledNow == true ? " NOW" : "")) }
        return parts.isEmpty ? "not readable" : parts.joined(separator: ", ")
    }

    /// The figures `--compare` puts side by side: name, value, and whether higher is better.
    func comparableFigures() -> [(name: String, value: Double?, higherIsBetter: Bool)] {
        var rows: [(String, Double?, Bool)] = []
        for s in stages where s.name != "decode" && s.name != "present" {
            rows.append(("\(s.name) ms", s.ms, false))
        }
        rows.append(("decode ms/frame", stage("decode")?.perFrameMs, false))
        rows.append(("present ms/frame", stage("present")?.perFrameMs, false))
        rows.append(("frame p50 ms", frameTimes.p50Ms, false))
        rows.append(("frame p99 ms", frameTimes.p99Ms, false))
        rows.append(("fps mean", frameTimes.fpsMean, true))
        rows.append(("fps 1% low", frameTimes.fpsP1Low, true))
        rows.append(("sound-to-photon ms", soundToPhoton.totalMs, false))
        rows.append(("cpu load mean %", cpuLoadPercent.isEmpty ? nil : cpuLoadPercent.reduce(0, +) / Double(cpuLoadPercent.count), false))
        rows.append(("peak RSS MiB", peakRSSMiB, false))
        rows.append(("temperature end °C", thermalEnd.temperatureC, false))
        return rows
    }

    /// A change smaller than this share of the old value reads "same": two runs on one idle board differ by about
    /// that much, so calling it better or worse would only report noise.
    static let sameBand = 0.02

    /// The deltas from `old` to this report, one row per figure, with a warning when the scenarios differ.
    public func comparison(with old: BenchReport, oldName: String) -> String {
        var out: [String] = []
        if old.scenario != scenario {
            out.append("warning: \(oldName) ran another scenario ('\(old.scenario)'): the figures do not compare")
        }
        let oldMachine = "\(old.system.board ?? "?") / \(old.system.cpuModel ?? "?")"
        let newMachine = "\(system.board ?? "?") / \(system.cpuModel ?? "?")"
        out.append("compare: \(oldName) (\(old.date), \(oldMachine)) → this run (\(date)" + (oldMachine == newMachine ? ")" : ", \(newMachine))"))
        out.append("figure                     before        now       delta")
        let before = Dictionary(old.comparableFigures().map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        for row in comparableFigures() {
            let b = before[row.name] ?? nil
            let name = row.name.padding(toLength: 22, withPad: " ", startingAt: 0)
            func cell(_ v: Double?) -> String { v.map { String(format: "%11.2f", $0) } ?? "          -" }
            var delta = ""
            if let a = b, let n = row.value {
                let d = n - a
                let pct = a != 0 ? String(format: " (%+.1f %%)", 100 * d / abs(a)) : ""
                let verdict = abs(d) <= Self.sameBand * abs(a) ? "  same"
                    : ((d > 0) == row.higherIsBetter ? "  better" : "  worse")
                delta = String(format: "%+11.2f", d) + pct + verdict
            }
            out.append(name + cell(b) + cell(row.value) + " " + delta)
        }
        return out.joined(separator: "\n")
    }
}
