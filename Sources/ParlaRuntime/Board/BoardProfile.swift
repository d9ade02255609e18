import Foundation
import ParlaIO

/// A board profile: what Parla should use on one kind of board (display, audio, sizes, threads) and what a person
/// must do once to set it up. Profiles are data files in `Board/profiles/NAME.board` (installed to
/// `/usr/share/parla/boards`), read by `parla live --board NAME` and `parla bench --board NAME`. Format: one
/// `key: value` a line, `#` starts a comment; `match`, `gpu` and `setup` may repeat. See docs/bench.md.
public struct BoardProfile: Codable, Sendable, Equatable {
    /// The file name without `.board` (pi5, rk3588, ...).
    public var id: String
    /// A human name ("Raspberry Pi 5").
    public var name: String
    /// Substrings of /proc/device-tree/model (or DMI product) that identify the board; empty: never auto-detected.
    public var match: [String] = []
    /// `aarch64` or `x86_64`.
    public var architecture: String
    /// Worker threads worth using (big cores).
    public var threads: Int
    /// Side of the face picture in pixels (`--size`).
    public var size: Int = 512
    /// Motion frames per second (`--fps`).
    public var fps: Double = 30
    /// Milliseconds one frame (decode + present) may take on this board to keep up with `fps` with headroom.
    public var frameBudgetMs: Double
    /// Default connector (`--output`), nil: the first connected one.
    public var display: String?
    /// Default mode (`--mode`): preferred, WxH or WxH@HZ.
    public var mode: String = "preferred"
    /// KMS interface (`--kms`): auto, atomic or legacy.
    public var kms: String = "auto"
    /// Default ALSA playback device (`--audio-device`).
    public var audio: String = "default"
    /// GPU notes (driver, GLES version, what works).
    public var gpu: [String] = []
    /// One-time setup steps, in order.
    public var setup: [String] = []

    static let keys: Set<String> = ["name", "match", "arch", "threads", "size", "fps", "frame_budget_ms", "display",
                                    "mode", "kms", "audio", "gpu", "setup"]

    /// Parses a profile's text; `id` names it, `source` is used in error messages ("pi5.board").
    public init(id: String, text: String, source: String) throws {
        self.id = id
        var name: String?, arch: String?, threads: Int?, budget: Double?
        var seen = Set<String>()
        self.name = ""
        self.architecture = ""
        self.threads = 1
        self.frameBudgetMs = 0
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let where_ = "\(source):\(index + 1)"
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let colon = trimmed.firstIndex(of: ":") else {
                throw RuntimeError("\(where_): expected 'key: value', got '\(trimmed)'")
            }
            let key = trimmed[..<colon].trimmingCharacters(in: .whitespaces)
            let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard Self.keys.contains(key) else {
                throw RuntimeError("\(where_): unknown key '\(key)' (known: \(Self.keys.sorted().joined(separator: ", ")))")
            }
            guard !value.isEmpty else { throw RuntimeError("\(where_): '\(key)' has no value") }
            let repeatable: Set<String> = ["match", "gpu", "setup"]
            if !repeatable.contains(key) {
                guard !seen.contains(key) else { throw RuntimeError("\(where_): '\(key)' is given twice") }
                seen.insert(key)
            }
            func number(_ range: ClosedRange<Double>) throws -> Double {
                guard let v = Double(value), range.contains(v) else {
                    throw RuntimeError("\(where_): \(key) '\(value)' must be a number in \(range.lowerBound)…\(range.upperBound)")
                }
                return v
            }
            switch key {
            case "name": name = value
            case "match": match.append(value)
            case "arch":
                guard ["aarch64", "x86_64"].contains(value) else {
                    throw RuntimeError("\(where_): arch '\(value)' must be aarch64 or x86_64")
                }
                arch = value
            case "threads":
                guard let n = Int(value), (1...256).contains(n) else {
                    throw RuntimeError("\(where_): threads '\(value)' must be a whole number in 1…256")
                }
                threads = n
            case "size":
                guard let n = Int(value), (16...4096).contains(n) else {
                    throw RuntimeError("\(where_): size '\(value)' must be a whole number in 16…4096")
                }
                size = n
            case "fps": fps = try number(1...240)
            case "frame_budget_ms": budget = try number(0.1...1000)
            case "display": display = value
            case "mode":
                guard value == "preferred" || value.range(of: #"^[0-9]+x[0-9]+(@[0-9]+(\.[0-9]+)?)?$"#, options: .regularExpression) != nil else {
                    throw RuntimeError("\(where_): mode '\(value)' must be preferred, WxH or WxH@HZ")
                }
                mode = value
            case "kms":
                guard ["auto", "atomic", "legacy"].contains(value) else {
                    throw RuntimeError("\(where_): kms '\(value)' must be auto, atomic or legacy")
                }
                kms = value
            case "audio": audio = value
            case "gpu": gpu.append(value)
            case "setup": setup.append(value)
            default: break
            }
        }
        for (key, present) in [("name", name != nil), ("arch", arch != nil), ("threads", threads != nil),
                               ("frame_budget_ms", budget != nil)] where !present {
            throw RuntimeError("\(source): missing '\(key)'")
        }
        self.name = name!
        self.architecture = arch!
        self.threads = threads!
        self.frameBudgetMs = budget!
    }

    /// Reads `url` (its name without `.board` is the id).
    public init(contentsOf url: URL) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw RuntimeError("\(url.path): cannot read the board profile")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RuntimeError("\(url.path): the board profile is not UTF-8 text")
        }
        try self.init(id: url.deletingPathExtension().lastPathComponent, text: text, source: url.lastPathComponent)
    }

    /// True when `model` (a device-tree model or DMI name) contains one of `match`, case-insensitively.
    public func matches(model: String) -> Bool {
        let m = model.lowercased()
        return match.contains { m.contains($0.lowercased()) }
    }
}

/// The profiles one can choose from: a folder of `*.board` files.
public struct BoardProfiles: Sendable {
    /// The folder they come from.
    public let directory: URL

    /// The folder `PARLA_BOARDS` names, else the installed one (`<prefix>/share/parla/boards` beside the
    /// executable's `bin`), else this source checkout's `Board/profiles`.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BoardProfiles {
        if let dir = environment["PARLA_BOARDS"] {
            return BoardProfiles(directory: URL(fileURLWithPath: dir))
        }
        let installed = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/parla/boards")
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: installed.path, isDirectory: &isDir), isDir.boolValue {
            return BoardProfiles(directory: installed)
        }
        // Sources/ParlaRuntime/Board/BoardProfile.swift → Board/profiles of the same checkout.
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Board/profiles")
        if FileManager.default.fileExists(atPath: checkout.path, isDirectory: &isDir), isDir.boolValue {
            return BoardProfiles(directory: checkout)
        }
        throw RuntimeError("no board profiles found (set PARLA_BOARDS to a folder of .board files)")
    }

    public init(directory: URL) {
        self.directory = directory
    }

    /// The ids of every profile in the folder, sorted.
    public func ids() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".board") }.map { String($0.dropLast(6)) }.sorted()
    }

    /// The profile `id`; an unknown id is an error listing the known ones.
    public func profile(_ id: String) throws -> BoardProfile {
        guard id.range(of: #"^[A-Za-z0-9_.-]+$"#, options: .regularExpression) != nil, !id.hasPrefix(".") else {
            throw RuntimeError("--board '\(id)': a profile name is letters, digits, '-', '_' or '.'")
        }
        let url = directory.appendingPathComponent(id + ".board")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw RuntimeError("--board '\(id)': no such profile (known: \(ids().joined(separator: ", ")))")
        }
        return try BoardProfile(contentsOf: url)
    }

    /// The first profile whose `match` fits `model` (ids in sorted order), nil when none does.
    public func detect(model: String?) throws -> BoardProfile? {
        guard let model, !model.isEmpty else { return nil }
        for id in ids() {
            let p = try profile(id)
            if p.matches(model: model) { return p }
        }
        return nil
    }

    /// `--board` resolved: nil or `auto` detects from this machine's model (nil when nothing matches),
    /// `none` gives nil, anything else is a profile id.
    public func resolve(_ choice: String?, model: String? = SystemIdentity.boardMatchText()) throws -> BoardProfile? {
        switch choice?.lowercased() {
        case nil, "auto": return try detect(model: model)
        case "none": return nil
        default: return try profile(choice!)
        }
    }
}

extension BoardProfiles {
    /// `--board` for commands that work without a profile: `auto` detects (nil when no profile folder exists or
    /// none matches), `none` is nil, a name must exist.
    public static func choose(_ choice: String) throws -> BoardProfile? {
        switch choice.lowercased() {
        case "none": return nil
        case "auto":
            guard let profiles = try? locate() else { return nil }
            return try profiles.resolve("auto")
        default: return try locate().resolve(choice)
        }
    }
}
