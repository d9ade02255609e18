import Foundation
import ParlaFace
import ParlaTestSupport
import XCTest

/// `parla serve` as systemd runs it: the built executable in a child process, stopped by SIGTERM (systemctl stop)
/// or SIGINT (Ctrl-C). A requested stop must exit 0 without an error line, or systemd records a failure on every
/// stop; a port already in use must fail with one line and a non-zero status.
final class ServeProcessTests: XCTestCase {
    /// The `parla` executable SwiftPM built beside this test bundle (`swift build --build-tests` builds both).
    static func parlaExecutable() throws -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            .map { URL(fileURLWithPath: $0) } ?? Bundle.main.executableURL ?? Bundle.main.bundleURL
        var dir = exe.deletingLastPathComponent()
        // On some platforms the bundle is a directory (X.xctest/Contents/MacOS/X): walk up to the build directory.
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("parla").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        throw NSError(domain: "no parla executable next to the test bundle \(exe.path) (build with swift build --build-tests)", code: 0)
    }

    /// How long the child may take to analyse nothing, load the avatar and listen (qemu runs several times slower).
    static let startBudget: Double = ProcessInfo.processInfo.environment["PARLA_EMULATED"] == nil ? 60 : 600

    /// An avatar file for the child (so it does not analyse the demo portrait at start); made once.
    static let avatarFile: URL = {
        let dir = try! Fixtures.temporaryDirectory()
        let url = dir.appendingPathComponent("grace.avatar")
        try! AvatarFile.write(ControlAPITests.avatar, to: url)
        return url
    }()

    /// A child `parla serve` with its stderr collected.
    final class Child: @unchecked Sendable {
        let process = Process()
        private let lock = NSLock()
        private var errData = Data()
        private let pipe = Pipe()

        init(_ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: try ServeProcessTests.parlaExecutable())
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = pipe
            pipe.fileHandleForReading.readabilityHandler = { @Sendable [unowned self] handle in
                let chunk = handle.availableData
                self.lock.lock(); self.errData.append(chunk); self.lock.unlock()
            }
            try process.run()
        }

        var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: errData, as: UTF8.self) }
        var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }

        /// The port from the "listening on HOST:PORT" line, once it appears (nil if the child exits or time runs out).
        func waitForPort(seconds: Double) -> UInt16? {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                for line in stderrLines {
                    guard let r = line.range(of: "listening on 127.0.0.1:") else { continue }
                    return UInt16(line[r.upperBound...].prefix { $0.isNumber })
                }
                if !process.isRunning { return nil }
                usleep(20_000)
            }
            return nil
        }

        /// Waits for the exit (killing the child after `seconds`); false when it had to be killed.
        func waitForExit(seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return false
            }
            process.waitUntilExit()
            // The last bytes of stderr: the pipe's write end closed with the child.
            pipe.fileHandleForReading.readabilityHandler = nil
            let rest = pipe.fileHandleForReading.readDataToEndOfFile()
            lock.lock(); errData.append(rest); lock.unlock()
            return true
        }
    }

    func serveThenSignal(_ signal: Int32, name: String) throws {
        let child = try Child(["serve", "--sink", "null", "--listen", "127.0.0.1:0", "--size", "64", "--fps", "15",
                               "--avatar", Self.avatarFile.path])
        guard let port = child.waitForPort(seconds: Self.startBudget) else {
            _ = child.waitForExit(seconds: 1)
            return XCTFail("parla serve did not listen; stderr:\n\(child.stderr)")
        }
        let status = try LoopbackClient(port: port).request("GET", "/status")
        XCTAssertEqual(status.status, 200)
        XCTAssertNotNil(status.json["speaking"], status.text)
        kill(child.process.processIdentifier, signal)
        XCTAssertTrue(child.waitForExit(seconds: 30), "parla serve did not exit within 30 s of \(name)")
        XCTAssertEqual(child.process.terminationReason, .exit, "\(name) killed parla serve instead of stopping it")
        XCTAssertEqual(child.process.terminationStatus, 0, "\(name): exit status \(child.process.terminationStatus); stderr:\n\(child.stderr)")
        let lines = child.stderrLines
        XCTAssertTrue(lines.contains { $0.hasSuffix("parla-serve: stopping") }, child.stderr)
        XCTAssertFalse(lines.contains { $0.hasPrefix("parla: error") || $0.hasPrefix("error ") || $0.hasPrefix("warning ") },
                       "\(name): an error on a requested stop:\n\(child.stderr)")
    }

    func testSIGTERMStopsWithStatusZero() throws {
        try serveThenSignal(SIGTERM, name: "SIGTERM")
    }

    func testSIGINTStopsWithStatusZero() throws {
        try serveThenSignal(SIGINT, name: "SIGINT")
    }

    func testPortInUseFailsWithOneLine() throws {
        // Hold a listening socket on a free port, then ask parla serve to bind the same one.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        XCTAssertTrue(bound && listen(fd, 1) == 0)
        let port = UInt16(bigEndian: address.sin_port)

        let child = try Child(["serve", "--sink", "null", "--listen", "127.0.0.1:\(port)", "--avatar", Self.avatarFile.path])
        XCTAssertTrue(child.waitForExit(seconds: Self.startBudget), "parla serve kept running on a port in use")
        XCTAssertEqual(child.process.terminationReason, .exit)
        XCTAssertNotEqual(child.process.terminationStatus, 0)
        XCTAssertEqual(child.stderrLines, ["parla: error: --listen 127.0.0.1:\(port): the address is already in use (another program listens on it)"],
                       child.stderr)
    }
}
