import Foundation
import XCTest
@testable import ParlaRuntime

final class BenchReportTests: XCTestCase {
    func testFrameTimeStatisticsOnKnownValues() {
        // 1...200 ms in shuffled order: p50 is the 100th value, p99 the 198th, the slowest 1 % are 199 and 200.
        var values = (1...200).map(Double.init)
        var rng = SystemRandomNumberGenerator()
        values.shuffle(using: &rng)
        let s = FrameTimeStats(frameMs: values, loopSeconds: 4)
        XCTAssertEqual(s.p50Ms, 100)
        XCTAssertEqual(s.p90Ms, 180)
        XCTAssertEqual(s.p99Ms, 198)
        XCTAssertEqual(s.maxMs, 200)
        XCTAssertEqual(s.meanMs, 100.5, accuracy: 1e-9)
        XCTAssertEqual(s.fpsMean, 50, accuracy: 1e-9)
        XCTAssertEqual(s.fpsP1Low, 1000 / 199.5, accuracy: 1e-9)
        XCTAssertEqual(s.perFrameMs, values)
        let empty = FrameTimeStats(frameMs: [], loopSeconds: 0)
        XCTAssertEqual(empty.fpsMean, 0)
        XCTAssertEqual(empty.fpsP1Low, 0)
    }

    func testCPULoadFromProcStat() {
        let before = CPUTimes(parsing: """
            cpu  300 0 100 1000 0 0 0 0 0 0
            cpu0 100 0 50 500 0 0 0 0 0 0
            cpu1 200 0 50 500 0 0 0 0 0 0
            intr 1 2 3
            """)
        let after = CPUTimes(parsing: """
            cpu  500 0 100 1200 0 0 0 0 0 0
            cpu0 175 0 75 500 0 0 0 0 0 0
            cpu1 200 0 50 700 0 0 0 0 0 0
            """)
        XCTAssertEqual(before.cores.map(\.name), ["cpu0", "cpu1"])
        XCTAssertEqual(after.load(since: before), [100, 0])
        XCTAssertEqual(CPUTimes(parsing: "garbage\n").cores.count, 0)
    }

    func testThermalStateFromAFakeSysTree() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("parla-sys-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        func write(_ path: String, _ text: String) throws {
            let url = URL(fileURLWithPath: root + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        try write("/sys/class/thermal/thermal_zone0/temp", "91000\n")
        try write("/sys/class/thermal/thermal_zone0/type", "gpu-thermal\n")
        try write("/sys/class/thermal/thermal_zone1/temp", "61500\n")
        try write("/sys/class/thermal/thermal_zone1/type", "cpu-thermal\n")
        try write("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "1500000\n")
        try write("/sys/devices/system/cpu/cpu1/cpufreq/scaling_cur_freq", "2400000\n")
        try write("/sys/devices/system/cpu/cpu1/cpufreq/scaling_max_freq", "2400000\n")
        try write("/sys/devices/platform/soc/soc:firmware/get_throttled", "50005\n")
        let t = ThermalState.read(root: root)
        XCTAssertEqual(t.temperatureC, 61.5) // the CPU zone wins over a hotter GPU zone
        XCTAssertEqual(t.zone, "cpu-thermal")
        XCTAssertEqual(t.cpuMHz, 1950)
        XCTAssertEqual(t.maxMHz, 2400)
        XCTAssertEqual(t.throttledFlags, "0x50005")
        XCTAssertEqual(t.throttledNow, true)
        let none = ThermalState.read(root: root + "/nothing")
        XCTAssertNil(none.temperatureC)
        XCTAssertNil(none.cpuMHz)
        XCTAssertNil(none.throttledNow)
    }

    func testBoardNameFromDeviceTree() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("parla-dt-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/proc/device-tree", withIntermediateDirectories: true)
        try Data("Raspberry Pi 5 Model B Rev 1.0\0".utf8).write(to: URL(fileURLWithPath: root + "/proc/device-tree/model"))
        try Data("raspberrypi,5-model-b\0brcm,bcm2712\0".utf8).write(to: URL(fileURLWithPath: root + "/proc/device-tree/compatible"))
        XCTAssertEqual(SystemIdentity.boardName(root: root), "Raspberry Pi 5 Model B Rev 1.0")
        XCTAssertEqual(SystemIdentity.boardMatchText(root: root), "Raspberry Pi 5 Model B Rev 1.0 raspberrypi,5-model-b brcm,bcm2712")
        XCTAssertNil(SystemIdentity.boardName(root: root + "/nothing"))
    }

    private func report(frameMs: [Double], temperatures: [Double]) -> BenchReport {
        let stats = FrameTimeStats(frameMs: frameMs, loopSeconds: frameMs.reduce(0, +) / 1000)
        var samples: [BenchSample] = []
        var t = 0.0
        for ms in frameMs { t += ms / 1000; samples.append(BenchSample(t: t, frameMs: ms)) }
        for (i, c) in temperatures.enumerated() { samples.append(BenchSample(t: Double(i) * 0.2 - 1, temperatureC: c, cpuMHz: 1800)) }
        let thermal = ThermalState(temperatureC: temperatures.last, zone: "cpu-thermal")
        return BenchReport(
            scenario: FieldBench.scenario, parlaVersion: "test", date: "2026-01-01T00:00:00Z",
            system: SystemIdentity(board: "Test Board", kernel: "Linux 6.1 aarch64", architecture: "aarch64", cpuModel: "A76",
                                   cpuCount: 4, cpuFeatures: ["asimddp"], emulated: nil),
            boardProfile: "pi5", frameBudgetMs: 25, width: 512, height: 512, fps: 30, frames: frameMs.count,
            audioSeconds: Double(frameMs.count) / 30,
            stages: [BenchStage(name: "prepare", ms: 900, perFrameMs: nil, note: ""),
                     BenchStage(name: "visemenet", ms: 21, perFrameMs: nil, note: ""),
                     BenchStage(name: "decode", ms: 10 * Double(frameMs.count), perFrameMs: 10, note: "")],
            frameTimes: stats,
            soundToPhoton: SoundToPhoton(capturePeriodMs: 10, lookAheadMs: 79.2, frameP50Ms: stats.p50Ms, scanoutMs: 16.7),
            cpuLoadPercent: [100, 5, 0, 0], peakRSSMiB: 120, thermalStart: thermal, thermalEnd: thermal,
            panel: "no display", samples: samples)
    }

    func testJSONRoundTripTextAndComparison() throws {
        let old = report(frameMs: Array(repeating: 20, count: 90), temperatures: [50, 55, 60])
        let new = report(frameMs: Array(repeating: 10, count: 90), temperatures: [50, 52])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("parla-bench-\(getpid()).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try old.json().write(to: url)
        let back = try BenchReport.read(url)
        XCTAssertEqual(back.frameTimes, old.frameTimes)
        XCTAssertEqual(back.samples, old.samples)
        XCTAssertEqual(back.soundToPhoton.totalMs, old.soundToPhoton.totalMs, accuracy: 1e-9)

        let text = new.text()
        XCTAssertTrue(text.contains("p99 10.00 ms against 25.0 ms: within"), text)
        XCTAssertTrue(text.contains("visemenet       21.0"), text)
        XCTAssertTrue(text.contains("sound-to-photon estimate (live --mic): "), text)
        let comparison = new.comparison(with: back, oldName: "old.json")
        XCTAssertFalse(comparison.contains("warning"))
        let fpsLine = try XCTUnwrap(comparison.split(separator: "\n").first { $0.hasPrefix("fps mean") })
        XCTAssertTrue(fpsLine.contains("+50.00") && fpsLine.contains("(+100.0 %)") && fpsLine.hasSuffix("better"), String(fpsLine))
        let p50Line = try XCTUnwrap(comparison.split(separator: "\n").first { $0.hasPrefix("frame p50 ms") })
        XCTAssertTrue(p50Line.contains("-10.00") && p50Line.hasSuffix("better"), String(p50Line))
        let rssLine = try XCTUnwrap(comparison.split(separator: "\n").first { $0.hasPrefix("peak RSS MiB") })
        XCTAssertTrue(rssLine.contains("+0.00") && rssLine.hasSuffix("same"), String(rssLine))
        var slightlyBigger = back
        slightlyBigger.peakRSSMiB = 118            // 120 now: +1.7 %, inside the noise band
        let nearLine = try XCTUnwrap(new.comparison(with: slightlyBigger, oldName: "old.json").split(separator: "\n")
            .first { $0.hasPrefix("peak RSS MiB") })
        XCTAssertTrue(nearLine.hasSuffix("same"), String(nearLine))
        slightlyBigger.peakRSSMiB = 115            // +4.3 %: a real change
        let farLine = try XCTUnwrap(new.comparison(with: slightlyBigger, oldName: "old.json").split(separator: "\n")
            .first { $0.hasPrefix("peak RSS MiB") })
        XCTAssertTrue(farLine.hasSuffix("worse"), String(farLine))

        var other = back
        other.scenario = "parla-bench-0"
        XCTAssertTrue(new.comparison(with: other, oldName: "x.json").hasPrefix("warning: x.json ran another scenario"))

        try Data("{}".utf8).write(to: url)
        XCTAssertThrowsError(try BenchReport.read(url)) { error in
            XCTAssertTrue(String(describing: error).hasSuffix("not a parla bench --json report"))
        }
    }

    func testPlotDrawsBothSeriesAndTheLegend() {
        let r = report(frameMs: (0..<120).map { 8 + Double($0 % 7) }, temperatures: [48, 50, 53, 55, 56])
        let image = BenchPlot.draw(r)
        XCTAssertEqual(image.width, BenchPlot.width)
        func count(_ c: (UInt8, UInt8, UInt8)) -> Int {
            stride(from: 0, to: image.pixels.count, by: 4).filter {
                image.pixels[$0] == c.0 && image.pixels[$0 + 1] == c.1 && image.pixels[$0 + 2] == c.2
            }.count
        }
        XCTAssertGreaterThan(count(BenchPlot.frameColor), 500)
        XCTAssertGreaterThan(count(BenchPlot.tempColor), 300)
        XCTAssertGreaterThan(count(BenchPlot.budgetColor), 200)
        XCTAssertGreaterThan(count(BenchPlot.clockColor), 200)
        XCTAssertGreaterThan(count(BenchPlot.ink), 2000) // axes and text
        XCTAssertEqual(BenchPlot.ticks(0, 10), [0, 2, 4, 6, 8, 10])
        XCTAssertEqual(BenchPlot.ticks(-1.3, 3.1), [-1, 0, 1, 2, 3])
    }
}
