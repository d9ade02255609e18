import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What a bench report says about the machine: board, kernel, CPUs. Read from /proc and /sys; every field that
/// cannot be read is nil or empty rather than guessed.
public struct SystemIdentity: Codable, Sendable, Equatable {
    /// /proc/device-tree/model (ARM boards), else DMI vendor + product name (PCs, VMs).
    public var board: String?
    /// `uname -srm`.
    public var kernel: String
    /// The machine architecture (`uname -m`).
    public var architecture: String
    /// The CPU model from /proc/cpuinfo ("model name", or the ARM part numbers when that is all there is).
    public var cpuModel: String?
    /// Online CPUs.
    public var cpuCount: Int
    /// CPU feature flags the kernel reports that matter to Parla's kernels (asimddp, sve, avx2, ...).
    public var cpuFeatures: [String]
    /// Set when running under emulation (the aarch64 test tier sets PARLA_EMULATED).
    public var emulated: String?

    /// Reads the identity of this machine.
    public static func current() -> SystemIdentity {
        var name = utsname()
        uname(&name)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
        }
        let kernel = "\(field(name.sysname)) \(field(name.release)) \(field(name.machine))"
        let cpuinfo = SystemFiles.read("/proc/cpuinfo") ?? ""
        var model: String?
        var flags: [String] = []
        var parts = Set<String>()
        for line in cpuinfo.split(separator: "\n") {
            let kv = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2 else { continue }
            switch kv[0] {
            case "model name" where model == nil: model = kv[1]
            case "Model" where model == nil: model = kv[1]
            case "CPU part": parts.insert(kv[1])
            case "flags", "Features": if flags.isEmpty { flags = kv[1].split(separator: " ").map(String.init) }
            default: break
            }
        }
        if model == nil, !parts.isEmpty { model = "ARM CPU part " + parts.sorted().joined(separator: ", ") }
        let interesting: Set<String> = ["asimd", "asimddp", "asimdhp", "sve", "sve2", "i8mm", "bf16",
                                        "sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni"]
        return SystemIdentity(
            board: boardName(), kernel: kernel, architecture: field(name.machine), cpuModel: model,
            cpuCount: max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))),
            cpuFeatures: flags.filter { interesting.contains($0) }.sorted(),
            emulated: ProcessInfo.processInfo.environment["PARLA_EMULATED"])
    }

    /// The board's model string: the device tree's (ARM) or DMI's (x86), nil when neither is readable.
    public static func boardName(root: String = "") -> String? {
        if let dt = SystemFiles.read(root + "/proc/device-tree/model")?.trimmingCharacters(in: .controlCharacters.union(.whitespaces)),
           !dt.isEmpty {
            return dt
        }
        let vendor = SystemFiles.line(root + "/sys/class/dmi/id/sys_vendor")
        let product = SystemFiles.line(root + "/sys/class/dmi/id/product_name")
        let joined = [vendor, product].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        return joined.isEmpty ? nil : joined
    }
}

extension SystemIdentity {
    /// What board profiles match against: the board name plus the device tree's `compatible` strings
    /// (e.g. "Radxa ROCK 5B rockchip,rock-5b rockchip,rk3588"), nil when none is readable.
    public static func boardMatchText(root: String = "") -> String? {
        let compatible = (SystemFiles.read(root + "/proc/device-tree/compatible") ?? "")
            .split(separator: "\0").map(String.init).joined(separator: " ")
        let text = [boardName(root: root) ?? "", compatible].filter { !$0.isEmpty }.joined(separator: " ")
        return text.isEmpty ? nil : text
    }
}

/// Small readers for /proc and /sys files (absent or unreadable files give nil).
enum SystemFiles {
    static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func line(_ path: String) -> String? {
        read(path)?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func number(_ path: String) -> Double? {
        line(path).flatMap(Double.init)
    }
}

/// Per-core CPU time from /proc/stat; two snapshots give each core's load between them.
public struct CPUTimes: Sendable {
    /// Per core ("cpu0", "cpu1", ...): (busy, total) jiffies.
    public var cores: [(name: String, busy: UInt64, total: UInt64)]

    /// A snapshot of /proc/stat (empty when it cannot be read).
    public static func now(path: String = "/proc/stat") -> CPUTimes {
        CPUTimes(parsing: SystemFiles.read(path) ?? "")
    }

    /// Parses /proc/stat text: per-core lines `cpuN user nice system idle iowait irq softirq steal ...`.
    public init(parsing text: String) {
        cores = []
        for line in text.split(separator: "\n") where line.hasPrefix("cpu") && !line.hasPrefix("cpu ") {
            let f = line.split(separator: " ")
            guard f.count >= 5 else { continue }
            let values = f.dropFirst().prefix(8).map { UInt64($0) ?? 0 }
            let total = values.reduce(0, +)
            let idle = values[3] + (values.count > 4 ? values[4] : 0) // idle + iowait
            cores.append((String(f[0]), total - min(idle, total), total))
        }
    }

    /// Percent busy per core from `earlier` to `self` (cores missing from either are left out).
    public func load(since earlier: CPUTimes) -> [Double] {
        var result: [Double] = []
        for core in cores {
            guard let old = earlier.cores.first(where: { $0.name == core.name }) else { continue }
            let total = core.total &- old.total
            let busy = core.busy &- old.busy
            result.append(total > 0 && total < 1 << 40 ? min(100, 100 * Double(busy) / Double(total)) : 0)
        }
        return result
    }
}

/// CPU temperature and clock state from /sys, where the kernel exposes them.
public struct ThermalState: Codable, Sendable, Equatable {
    /// Hottest CPU-ish thermal zone in °C (zones whose type mentions cpu/soc/x86_pkg, else any zone).
    public var temperatureC: Double?
    /// The zone it came from.
    public var zone: String?
    /// Mean current clock of the online CPUs in MHz (cpufreq scaling_cur_freq).
    public var cpuMHz: Double?
    /// Highest allowed clock in MHz (cpufreq scaling_max_freq / cpuinfo_max_freq).
    public var maxMHz: Double?
    /// Raspberry Pi firmware throttle flags (get_throttled, hex), when the kernel exposes them.
    public var throttledFlags: String?

    /// True when the firmware reports current throttling or under-voltage (Pi: bits 0–3 of get_throttled).
    public var throttledNow: Bool? {
        guard let flags = throttledFlags, let v = UInt32(flags.replacingOccurrences(of: "0x", with: ""), radix: 16)
        else { return nil }
        return v & 0xF != 0
    }

    /// Reads the current state below `root` (a test may pass a fake tree).
    public static func read(root: String = "") -> ThermalState {
        var state = ThermalState()
        let thermal = root + "/sys/class/thermal"
        var best: (priority: Int, temp: Double, zone: String)?
        for zone in (try? FileManager.default.contentsOfDirectory(atPath: thermal))?.sorted() ?? []
        where zone.hasPrefix("thermal_zone") {
            guard let milli = SystemFiles.number("\(thermal)/\(zone)/temp"), milli > -40_000, milli < 200_000 else { continue }
            let type = SystemFiles.line("\(thermal)/\(zone)/type") ?? zone
            let t = type.lowercased()
            let priority = t.contains("cpu") || t.contains("soc") || t.contains("x86_pkg") || t.contains("bigcore") ? 1 : 0
            let c = milli / 1000
            if best == nil || priority > best!.priority || (priority == best!.priority && c > best!.temp) {
                best = (priority, c, type)
            }
        }
        state.temperatureC = best?.temp
        state.zone = best?.zone
        let cpufreq = root + "/sys/devices/system/cpu"
        var cur: [Double] = []
        var maxima: [Double] = []
        for cpu in (try? FileManager.default.contentsOfDirectory(atPath: cpufreq)) ?? []
        where cpu.hasPrefix("cpu") && cpu.dropFirst(3).allSatisfy(\.isNumber) && cpu.count > 3 {
            if let k = SystemFiles.number("\(cpufreq)/\(cpu)/cpufreq/scaling_cur_freq") { cur.append(k / 1000) }
            if let k = SystemFiles.number("\(cpufreq)/\(cpu)/cpufreq/scaling_max_freq")
                ?? SystemFiles.number("\(cpufreq)/\(cpu)/cpufreq/cpuinfo_max_freq") { maxima.append(k / 1000) }
        }
        if !cur.isEmpty { state.cpuMHz = cur.reduce(0, +) / Double(cur.count) }
        state.maxMHz = maxima.max()
        for path in ["/sys/devices/platform/soc/soc:firmware/get_throttled", "/sys/devices/platform/soc:firmware/get_throttled"] {
            if let flags = SystemFiles.line(root + path), !flags.isEmpty {
                state.throttledFlags = flags.hasPrefix("0x") ? flags : "0x" + flags
                break
            }
        }
        return state
    }
}

#if os(Linux)
private let RUSAGE_SELF_WHO = __rusage_who_t(RUSAGE_SELF.rawValue)
#else
private let RUSAGE_SELF_WHO = RUSAGE_SELF
#endif

/// Peak resident set size of this process in MiB (getrusage; ru_maxrss is in KiB on Linux).
public func peakResidentMiB() -> Double {
    var usage = rusage()
    guard getrusage(RUSAGE_SELF_WHO, &usage) == 0 else { return 0 }
    return Double(usage.ru_maxrss) / 1024
}
