import ArgumentParser
import Foundation
import ParlaRuntime

/// `parla bench` (`parla bench run`): the fixed field-test scenario, a report a person reads, and optionally JSON,
/// a plot and the deltas against an earlier report. See docs/bench.md.
struct BenchRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "The field test: prepare, front end, composer, decode and present timings, fps, temperature.",
        discussion: """
            Runs one fixed, versioned scenario (the bundled portrait, the first 10 s of the bundled speech, \
            512x512 at 30 fps to the null sink), so reports from different devices compare. \
            Examples:
              parla bench --board pi5 --json pi5.json --plot pi5.png
              parla bench --compare pi5.json
            """)

    @Option(help: "Board profile (pi5, pi4, rk3588, generic-a55, x86-dev, ...), auto (detect) or none.")
    var board = "auto"

    @Option(help: "Also write the report as JSON to this file.")
    var json: String?

    @Option(help: "Draw frame times and CPU temperature over time into this PNG.")
    var plot: String?

    @Option(help: "An earlier --json report: print the deltas from it.")
    var compare: String?

    @Flag(inversion: .prefixedNo, help: "Where a display exists, also show the frames on it (takes the display: DRM master).")
    var panel = true

    @Flag(help: "Print the board profiles and exit.")
    var listBoards = false

    /// The outputs' folders must exist and be writable before the run: the bench takes a while, and a typo in
    /// `--plot` or `--json` found only at the end would throw its figures away.
    func validate() throws {
        for (option, path) in [("--json", json), ("--plot", plot)] {
            guard let path else { continue }
            let folder = (path as NSString).deletingLastPathComponent
            let dir = folder.isEmpty ? "." : folder
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("\(option) \(path): the folder \(dir) does not exist")
            }
            guard access(dir, W_OK) == 0 else { throw ValidationError("\(option) \(path): the folder \(dir) is not writable") }
        }
    }

    func run() throws {
        try runReportingErrors {
            if listBoards {
                let profiles = try BoardProfiles.locate()
                for id in profiles.ids() {
                    let p = try profiles.profile(id)
                    print(id.padding(toLength: 13, withPad: " ", startingAt: 0) + "\(p.name): \(p.architecture), "
                          + "\(p.threads) threads, \(p.size)px @ \(Int(p.fps)) fps, budget \(p.frameBudgetMs) ms")
                }
                return
            }
            let profile = try BoardProfiles.choose(board)
            // Read the old report first: a bad path fails before minutes of benchmarking.
            let old = try compare.map { try BenchReport.read(URL(fileURLWithPath: $0)) }
            var bench = FieldBench(profile: profile)
            bench.panel = panel
            bench.log = { FileHandle.standardError.write(Data("bench: \($0)\n".utf8)) }
            let report = try bench.run()
            print(report.text())
            if let json {
                try writeAtomically(try report.json() + Data("\n".utf8), to: json)
                print("wrote \(json)")
            }
            if let plot {
                let tmp = plot + ".part"
                try BenchPlot.write(report, to: URL(fileURLWithPath: tmp))
                try replace(tmp, with: plot)
                print("wrote \(plot)")
            }
            if let old, let compare {
                print("")
                print(report.comparison(with: old, oldName: compare))
            }
        }
    }

    private func writeAtomically(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ValidationError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    private func replace(_ tmp: String, with path: String) throws {
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: tmp, toPath: path)
    }
}
