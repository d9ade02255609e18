import Foundation
import ParlaMedia

/// `parla bench --plot`: frame times and CPU temperature over the run, as a PNG drawn with the project's own PNG
/// encoder. Two panels share the time axis (seconds since the first frame; the prepare and front-end stages come
/// before 0): frame time in ms with its median and the board's budget, and the CPU temperature with the CPU clock.
public enum BenchPlot {
    public static let width = 1200, height = 760

    static let white: (UInt8, UInt8, UInt8) = (255, 255, 255)
    static let ink: (UInt8, UInt8, UInt8) = (30, 30, 30)
    static let grid: (UInt8, UInt8, UInt8) = (222, 222, 222)
    static let frameColor: (UInt8, UInt8, UInt8) = (31, 100, 190)
    static let medianColor: (UInt8, UInt8, UInt8) = (20, 150, 60)
    static let budgetColor: (UInt8, UInt8, UInt8) = (210, 40, 40)
    static let tempColor: (UInt8, UInt8, UInt8) = (220, 110, 0)
    static let clockColor: (UInt8, UInt8, UInt8) = (120, 60, 170)

    /// Draws `report`.
    public static func draw(_ report: BenchReport) -> RGBAImage {
        var image = RGBAImage(width: width, height: height, fill: (255, 255, 255, 255))
        let frames = report.samples.compactMap { s in s.frameMs.map { (s.t, $0) } }
        let temps = report.samples.compactMap { s in s.temperatureC.map { (s.t, $0) } }
        let clocks = report.samples.compactMap { s in s.cpuMHz.map { (s.t, $0) } }
        let times = report.samples.map(\.t)
        let t0 = min(0, times.min() ?? 0), t1 = max(t0 + 1, times.max() ?? 1)

        let title = "parla bench: \(report.system.board ?? "unknown board")" + (report.boardProfile.map { " (\($0))" } ?? "")
            + String(format: " - %d frames %dx%d - fps mean %.1f - 1%% low %.1f", report.frames, report.width, report.height,
                     report.frameTimes.fpsMean, report.frameTimes.fpsP1Low)
        PlotText.draw(title, at: 20, 14, scale: 2, color: ink, into: &image)
        PlotText.draw(report.scenario.replacingOccurrences(of: ", ", with: " / "), at: 20, 40, scale: 1, color: ink, into: &image)

        let left = 90, right = width - 90
        // Panel 1: frame time.
        let p1 = (top: 100, bottom: 390)
        let maxFrame = max(frames.map(\.1).max() ?? 1, report.frameBudgetMs ?? 0, 1) * 1.1
        let x = { (t: Double) -> Int in left + Int((t - t0) / (t1 - t0) * Double(right - left)) }
        let y1 = { (v: Double) -> Int in p1.bottom - Int(v / maxFrame * Double(p1.bottom - p1.top)) }
        axes(&image, left: left, right: right, top: p1.top, bottom: p1.bottom, t0: t0, t1: t1, x: x,
             yMax: maxFrame, yLabel: "frame time (ms)", color: ink, side: .left, showTimeLabels: false)
        if let budget = report.frameBudgetMs {
            dashed(&image, left, right, y1(budget), budgetColor)
        }
        dashed(&image, left, right, y1(report.frameTimes.p50Ms), medianColor)
        var previous: (Int, Int)?
        for (t, ms) in frames {
            let point = (x(t), y1(ms))
            if let p = previous { PlotCanvas.line(&image, p.0, p.1, point.0, point.1, frameColor, thickness: 2) }
            previous = point
        }
        var legend1: [(String, (UInt8, UInt8, UInt8))] = [("frame time: decode + present", frameColor),
                                                           (String(format: "median %.2f ms", report.frameTimes.p50Ms), medianColor)]
        if let b = report.frameBudgetMs { legend1.append((String(format: "board budget %.1f ms", b), budgetColor)) }
        self.legend(&image, legend1, x: left, y: p1.top - 32)

        // Panel 2: temperature (left axis) and CPU clock (right axis).
        let p2 = (top: 470, bottom: 690)
        if temps.isEmpty && clocks.isEmpty {
            axes(&image, left: left, right: right, top: p2.top, bottom: p2.bottom, t0: t0, t1: t1, x: x,
                 yMax: 100, yLabel: "cpu temperature (C)", color: tempColor, side: .left, showTimeLabels: true)
            PlotText.draw("temperature and cpu clock are not readable on this machine", at: left + 40, (p2.top + p2.bottom) / 2 - 7,
                            scale: 2, color: ink, into: &image)
        } else {
            let tv = temps.map(\.1)
            let tLo = ((tv.min() ?? 20) - 5).rounded(.down), tHi = ((tv.max() ?? 80) + 5).rounded(.up)
            let yT = { (v: Double) -> Int in p2.bottom - Int((v - tLo) / (tHi - tLo) * Double(p2.bottom - p2.top)) }
            axes(&image, left: left, right: right, top: p2.top, bottom: p2.bottom, t0: t0, t1: t1, x: x,
                 yMin: tLo, yMax: tHi, yLabel: "cpu temperature (C)", color: tempColor, side: .left, showTimeLabels: true)
            polyline(&image, temps.map { (x($0.0), yT($0.1)) }, tempColor)
            var legend2: [(String, (UInt8, UInt8, UInt8))] = []
            legend2.append((temps.isEmpty ? "temperature: not readable" : "cpu temperature", tempColor))
            if !clocks.isEmpty {
                let cHi = (clocks.map(\.1).max() ?? 1000) * 1.1
                let yC = { (v: Double) -> Int in p2.bottom - Int(v / cHi * Double(p2.bottom - p2.top)) }
                axes(&image, left: left, right: right, top: p2.top, bottom: p2.bottom, t0: t0, t1: t1, x: x,
                     yMax: cHi, yLabel: "cpu clock (MHz)", color: clockColor, side: .right, showTimeLabels: false)
                polyline(&image, clocks.map { (x($0.0), yC($0.1)) }, clockColor)
                legend2.append(("cpu clock (mean of cores)", clockColor))
            }
            legend(&image, legend2, x: left, y: p2.top - 32)
        }
        let xLabel = "time since the first frame (s) - before 0: prepare + front end + visemenet + composer"
        PlotText.draw(xLabel, at: (left + right - PlotText.measure(xLabel, scale: 2)) / 2, p2.bottom + 36,
                        scale: 2, color: ink, into: &image)
        return image
    }

    /// Writes the plot of `report` to `url` as PNG.
    public static func write(_ report: BenchReport, to url: URL) throws {
        try ImageCodec.writePNG(draw(report), to: url)
    }

    enum Side { case left, right }

    static func axes(_ image: inout RGBAImage, left: Int, right: Int, top: Int, bottom: Int, t0: Double, t1: Double,
                     x: (Double) -> Int, yMin: Double = 0, yMax: Double, yLabel: String, color: (UInt8, UInt8, UInt8),
                     side: Side, showTimeLabels: Bool) {
        let yOf = { (v: Double) -> Int in bottom - Int((v - yMin) / (yMax - yMin) * Double(bottom - top)) }
        if side == .left {
            for t in ticks(t0, t1) {
                PlotCanvas.line(&image, x(t), top, x(t), bottom, grid)
                if showTimeLabels {
                    let label = format(t)
                    PlotText.draw(label, at: x(t) - PlotText.measure(label, scale: 2) / 2, bottom + 10, scale: 2, color: ink, into: &image)
                }
            }
            for v in ticks(yMin, yMax) { PlotCanvas.line(&image, left, yOf(v), right, yOf(v), grid) }
            PlotCanvas.line(&image, left, top, left, bottom, ink, thickness: 2)
            PlotCanvas.line(&image, left, bottom, right, bottom, ink, thickness: 2)
            PlotCanvas.line(&image, x(0), top, x(0), bottom, (150, 150, 150))
        } else {
            PlotCanvas.line(&image, right, top, right, bottom, ink, thickness: 2)
        }
        for v in ticks(yMin, yMax) {
            let label = format(v)
            let w = PlotText.measure(label, scale: 2)
            let lx = side == .left ? left - 10 - w : right + 10
            PlotText.draw(label, at: lx, yOf(v) - 7, scale: 2, color: color, into: &image)
        }
        let h = PlotText.measure(yLabel, scale: 2)
        let vx = side == .left ? 8 : image.width - 24
        PlotText.drawVertical(yLabel, at: vx, (top + bottom) / 2 + h / 2, scale: 2, color: color, into: &image)
    }

    /// One row of legend entries (colour bar + label) starting at (x, y).
    static func legend(_ image: inout RGBAImage, _ items: [(String, (UInt8, UInt8, UInt8))], x: Int, y: Int) {
        var lx = x
        for item in items {
            PlotCanvas.fill(&image, x0: lx, y0: y + 5, x1: lx + 30, y1: y + 9, item.1)
            PlotText.draw(item.0, at: lx + 40, y, scale: 2, color: ink, into: &image)
            lx += 40 + PlotText.measure(item.0, scale: 2) + 40
        }
    }

    static func dashed(_ image: inout RGBAImage, _ x0: Int, _ x1: Int, _ y: Int, _ color: (UInt8, UInt8, UInt8)) {
        var x = x0
        while x < x1 {
            PlotCanvas.line(&image, x, y, min(x + 10, x1), y, color, thickness: 2)
            x += 18
        }
    }

    static func polyline(_ image: inout RGBAImage, _ points: [(Int, Int)], _ color: (UInt8, UInt8, UInt8)) {
        for (a, b) in zip(points, points.dropFirst()) { PlotCanvas.line(&image, a.0, a.1, b.0, b.1, color, thickness: 2) }
        if points.count == 1 { PlotCanvas.fill(&image, x0: points[0].0 - 2, y0: points[0].1 - 2, x1: points[0].0 + 3, y1: points[0].1 + 3, color) }
    }

    /// Round tick values covering [lo, hi]: steps of 1, 2 or 5 × 10^k, at most about 8 of them.
    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        guard hi > lo, (hi - lo).isFinite else { return [lo] }
        let raw = (hi - lo) / 7
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var values: [Double] = []
        var v = (lo / step).rounded(.up) * step
        while v <= hi + step * 1e-9 {
            values.append(abs(v) < step * 1e-9 ? 0 : v)
            v += step
        }
        return values
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e6 ? String(Int(v)) : String(format: "%.1f", v)
    }
}
