import Foundation
import ParlaTestSupport
import XCTest

/// `parla live`, `parla serve` and `parla say` as a user runs them on a machine without a display (this host): the
/// built `parla` beside the test bundle, its exit status and the lines it prints. The display options are one
/// option group shared by live and serve; serve shows on the panel unless told `--sink null`; a board profile's
/// line comes before the one-line "no display" error; say's --size reaches the live path.
final class CommandLineTests: XCTestCase {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var errorLines: [String] { stderr.split(separator: "\n").map(String.init) }
    }

    /// `parla` from the same build as this test bundle (`swift build --build-tests` builds it beside the bundle).
    static var parla: URL? {
        let candidate = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("parla")
        return FileManager.default.isExecutableFile(atPath: candidate.path) ? candidate : nil
    }

    /// The checkout's board profiles (what an installed parla finds in share/parla/boards).
    static let boards = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Board/profiles").path

    func binary() throws -> URL {
        guard let parla = Self.parla else {
            throw XCTSkip("no parla executable beside \(CommandLine.arguments[0]) (build with --build-tests)")
        }
        return parla
    }

    func run(_ arguments: [String]) throws -> Result {
        let p = Process()
        p.executableURL = try binary()
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(["PARLA_BOARDS": Self.boards]) { $1 }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        // Read both pipes to the end (stderr on another thread) so neither can fill up and stall the child.
        final class Box: @unchecked Sendable { var data = Data() }
        let errData = Box()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            errData.data = err.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData.data, as: UTF8.self))
    }

    func requireNoDisplay() throws {
        if FileManager.default.fileExists(atPath: "/dev/dri") {
            throw XCTSkip("this machine has /dev/dri: the no-display errors are not what it says")
        }
    }

    static let noDRI = "no display: /dev/dri does not exist (is a DRM driver loaded? on a board, check that vc4, rockchipdrm, sun4i-drm or the board's display driver is enabled)"

    /// The issue's `parla serve --avatar a.avatar --listen …` is the live mode: the panel by default, and without
    /// one a single line saying what is missing (and how to run headless) before the avatar is even read.
    func testServeDefaultsToThePanelAndFailsInOneLineWithoutADisplay() throws {
        try requireNoDisplay()
        let r = try run(["serve", "--avatar", "/nonexistent/a.avatar", "--listen", "127.0.0.1:0", "--board", "none"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.errorLines, ["parla: error: \(Self.noDRI); to serve without a panel: --sink null"])
        XCTAssertEqual(r.stdout, "")
        // Said explicitly, the sink needs no hint.
        let kms = try run(["serve", "--sink", "kms", "--avatar", "/nonexistent/a.avatar", "--board", "none"])
        XCTAssertEqual(kms.errorLines, ["parla: error: \(Self.noDRI)"])
    }

    /// `--board pi5` says which profile it took, then the error: one line, and the last.
    func testBoardProfileLineThenTheOneLineError() throws {
        try requireNoDisplay()
        for command in [["live", "--audio", "/nonexistent/a.wav"], ["serve", "--sink", "kms"]] {
            let r = try run(command + ["--avatar", "/nonexistent/a.avatar", "--board", "pi5"])
            XCTAssertEqual(r.status, 1, command[0])
            XCTAssertEqual(r.errorLines, ["parla: board profile pi5 (Raspberry Pi 5)", "parla: error: \(Self.noDRI)"], command[0])
        }
    }

    /// Serve takes live's display options (one option group): listed in its help, and parsed (a bad value is a
    /// one-line error naming it, before the display is opened).
    func testServeSharesLivesDisplayOptions() throws {
        let live = try run(["live", "--help"]).stdout
        let serve = try run(["serve", "--help"]).stdout
        for option in ["--output", "--mode", "--rotate", "--fit", "--background", "--card", "--audio-device", "--board",
                       "--kms", "--hud", "--stats", "--threads"] {
            XCTAssertTrue(live.contains(option + " ") || live.contains(option + "\n"), "live --help lacks \(option)")
            XCTAssertTrue(serve.contains(option + " ") || serve.contains(option + "\n"), "serve --help lacks \(option)")
        }
        let rotate = try run(["serve", "--rotate", "45", "--board", "none"])
        XCTAssertEqual(rotate.status, 1)
        XCTAssertEqual(rotate.errorLines, ["parla: error: rotation '45' is not one of 0, 90, 180, 270"])
        let mode = try run(["serve", "--mode", "640x", "--board", "none"])
        XCTAssertEqual(mode.errorLines, ["parla: error: mode '640x' is not of the form WIDTHxHEIGHT or WIDTHxHEIGHT@HZ (e.g. 1280x720@60)"])
        // Panel options make no sense headless: said, not silently ignored.
        let headless = try run(["serve", "--sink", "null", "--output", "HDMI-A-1", "--hud"])
        XCTAssertNotEqual(headless.status, 0)
        XCTAssertTrue(headless.stderr.contains("--output, --hud only apply to the panel: drop them or use --sink kms"), headless.stderr)
        let sink = try run(["serve", "--sink", "fbdev"])
        XCTAssertNotEqual(sink.status, 0)
        XCTAssertTrue(sink.stderr.contains("--sink must be kms or null"), sink.stderr)
    }

    /// `--sink null` runs headless and says so: no panel, no sound, listening; `--stats` lines once a second.
    func testServeHeadlessSaysWhatItRunsOn() throws {
        let parla = try binary()
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = dir.appendingPathComponent("serve.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let p = Process()
        p.executableURL = parla
        p.arguments = ["serve", "--sink", "null", "--listen", "127.0.0.1:0", "--size", "64", "--stats"]
        p.standardError = try FileHandle(forWritingTo: log)
        p.standardOutput = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        var text = ""
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, p.isRunning, !(text.contains("listening on") && text.contains("stats:")) {
            Thread.sleep(forTimeInterval: 0.1)
            text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        }
        // (Its exit status after SIGTERM is ServeProcessTests' business.)
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        XCTAssertTrue(text.contains("info parla-serve: audio: none (monotonic clock)"), text)
        XCTAssertTrue(text.range(of: #"listening on 127\.0\.0\.1:[0-9]+, sink null, 64x64"#, options: .regularExpression) != nil, text)
        XCTAssertFalse(text.contains("display:"), text)
        XCTAssertNotNil(text.range(of: #"info parla-serve: stats: +[0-9.]+ fps, frame +[0-9.]+ ms \(median\), lag +-?[0-9]+ ms, dropped [0-9]+, underruns 0\n"#,
                                   options: .regularExpression), text)
    }

    /// `parla say --size N` live: the size reaches the live job (which checks it before opening the display), and
    /// a non-square size is refused for the live picture.
    func testSayLiveTakesTheSize() throws {
        try requireNoDisplay()
        let big = try run(["say", "Hi.", "--size", "5000", "--audio-device", "none"])
        XCTAssertEqual(big.status, 1)
        XCTAssertEqual(big.errorLines.last, "parla: error: --size 5000 must be between 16 and 4096", big.stderr)
        let fine = try run(["say", "Hi.", "--size", "384", "--audio-device", "none"])
        XCTAssertEqual(fine.errorLines.last, "parla: error: \(Self.noDRI)", fine.stderr)
        let wide = try run(["say", "Hi.", "--size", "300x200"])
        XCTAssertNotEqual(wide.status, 0)
        XCTAssertTrue(wide.stderr.contains("--size 300x200: the live picture is square"), wide.stderr)
    }
}
