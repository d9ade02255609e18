import CALSA
import Foundation

/// A PCM device name ALSA offers, as `aplay -L` lists it.
public struct AudioDeviceInfo: Sendable, Equatable {
    /// What to pass to `--audio-device`, e.g. "default", "plughw:CARD=Loopback,DEV=0".
    public var name: String
    /// ALSA's description, lines joined with " — ".
    public var description: String

    /// A device entry.
    public init(name: String, description: String) {
        self.name = name
        self.description = description
    }
}

/// Lists ALSA PCM devices.
public enum ALSADeviceList {
    /// Playback-capable PCM names from ALSA's device hints (the configuration's names and every card's).
    public static func playbackDevices() -> [AudioDeviceInfo] { devices(direction: "Output") }

    /// Capture-capable PCM names.
    public static func captureDevices() -> [AudioDeviceInfo] { devices(direction: "Input") }

    private static func devices(direction: String) -> [AudioDeviceInfo] {
        parla_alsa_silence_library_errors()
        var hints: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
        guard snd_device_name_hint(-1, "pcm", &hints) == 0, let hints else { return [] }
        defer { snd_device_name_free_hint(hints) }
        func get(_ hint: UnsafeMutableRawPointer, _ key: String) -> String? {
            guard let c = snd_device_name_get_hint(hint, key) else { return nil }
            defer { free(c) }
            return String(cString: c)
        }
        var out = [AudioDeviceInfo]()
        var i = 0
        while let hint = hints[i] {
            i += 1
            guard let name = get(hint, "NAME") else { continue }
            let io = get(hint, "IOID")
            guard io == nil || io == direction else { continue }
            let desc = (get(hint, "DESC") ?? "").split(separator: "\n").joined(separator: " — ")
            out.append(AudioDeviceInfo(name: name, description: desc))
        }
        return out
    }

    /// The listing `parla live --list-outputs` prints for `devices`.
    public static func formatted(_ devices: [AudioDeviceInfo], title: String = "ALSA playback devices",
                                 whenNone: String = "no sound card; use --audio-device none") -> String {
        guard !devices.isEmpty else { return "\(title): none (\(whenNone))" }
        let width = min(40, devices.map(\.name.count).max() ?? 0)
        let lines = devices.map { d -> String in
            let pad = String(repeating: " ", count: max(1, width - d.name.count + 2))
            return "  " + d.name + (d.description.isEmpty ? "" : pad + d.description)
        }
        return ([title + ":"] + lines).joined(separator: "\n")
    }
}
