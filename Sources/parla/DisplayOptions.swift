import ArgumentParser
import Foundation
import ParlaRuntime

/// The panel and sound options `parla live` and `parla serve` share: which card, connector and mode, how the
/// picture is turned and fitted, the ALSA playback device, the board profile, the decoder's threads, the overlay and
/// the stats lines.
struct DisplayOptions: ParsableArguments {
    @Option(help: "Connector to use, e.g. HDMI-A-1, DSI-1, Virtual-1 (default: the board profile's if connected, else the first connected one).")
    var output: String?
    @Option(help: "preferred, WIDTHxHEIGHT or WIDTHxHEIGHT@HZ.")
    var mode = "preferred"
    @Option(help: "Turn the picture clockwise by 0, 90, 180 or 270 degrees.")
    var rotate = "0"
    @Option(help: "contain (all of the face, borders around it) or cover (fill the screen, crop the rest).")
    var fit = "contain"
    @Option(help: "Border colour, #rrggbb.")
    var background = "#000000"
    @Option(name: .customLong("audio-device"), help: "ALSA playback device, or none (no sound; the system clock paces the face). Default: default (the board profile's, if any; none with serve --sink null).")
    var audioDevice: String?
    @Option(help: "DRM device file (default: the first card in /dev/dri with a connected display).")
    var card: String?
    @Option(help: "Board profile whose display, audio, size, fps and threads defaults to use (pi5, pi4, rk3588, ...; parla bench --list-boards), auto (detect) or none.")
    var board = "auto"
    @Option(help: "KMS interface: auto, atomic or legacy.")
    var kms = "auto"
    @Option(help: "Threads the CPU decoder splits each picture over (default: the board profile's, else 1).")
    var threads: Int?
    @Flag(help: "Draw a stats overlay into the picture: fps, frame time, lag, dropped frames, CPU temperature (if readable).")
    var hud = false
    @Flag(help: "Print fps, frame time, dropped frames and the lag every second (live: the A/V offset, with --mic the sound-to-photon delay, and a summary at the end).")
    var stats = false

    func validate() throws {
        if let threads, !(1...64).contains(threads) { throw ValidationError("--threads must be in 1...64, not \(threads)") }
    }

    /// The long names of the options that only matter for a panel (an error with `parla serve --sink null`).
    static let panelOnly = ["output", "mode", "rotate", "fit", "background", "card", "board", "kms", "hud"]

    /// Puts these options into `settings` (one-line errors for bad values), then the board profile's defaults for
    /// whatever the command line left out (`typed`: the long option names given), saying which profile on stderr.
    func apply<Settings: LivePanelSettings>(to settings: inout Settings, typed: Set<String> = typedLongOptions()) throws {
        try settings.setDisplay(mode: mode, rotate: rotate, fit: fit, background: background, kms: kms)
        settings.output = output
        settings.card = card
        settings.hud = hud
        if let threads { settings.decoderThreads = threads }
        let device = audioDevice ?? "default"
        settings.audioDevice = device.lowercased() == "none" ? nil : device
        if let profile = try BoardProfiles.choose(board) {
            try settings.apply(profile, except: typed)
            FileHandle.standardError.write(Data("parla: board profile \(profile.id) (\(profile.name))\n".utf8))
        }
    }
}
