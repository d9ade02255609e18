import ParlaIO
import ParlaMedia

/// The panel and sound settings `parla live` and `parla serve` share (`--output`, `--mode`, `--rotate`, `--fit`,
/// `--background`, `--kms`, `--card`, `--hud`, `--audio-device`, `--threads`, and what a board profile fills in), so both open
/// the display, fit the picture and take a profile's defaults the same way. ``LiveOptions`` and
/// ``FaceEngine/Configuration`` have them.
public protocol LivePanelSettings {
    /// Connector name ("HDMI-A-1", "Virtual-1"); nil takes the first connected one.
    var output: String? { get set }
    /// `output` is a default (a board profile's), not the user's `--output`: when that connector is not connected
    /// the first connected one is taken, with one line saying so.
    var outputIsPreference: Bool { get set }
    /// The screen mode (`--mode`).
    var mode: ModeRequest { get set }
    /// How the picture is turned (`--rotate`).
    var rotation: Rotation { get set }
    /// How the picture is scaled into the mode (`--fit`).
    var fit: FitMode { get set }
    /// The border colour (`--background`).
    var background: RGBColor { get set }
    /// Atomic, legacy, or whichever the driver supports (`--kms`).
    var kms: KMSInterface { get set }
    /// A DRM device file; nil picks the first card in ``driDirectory`` that has a display.
    var card: String? { get set }
    /// Where to look for cards (tests point this elsewhere).
    var driDirectory: String { get set }
    /// Draw the stats overlay into the picture.
    var hud: Bool { get set }
    /// ALSA playback device; nil plays no sound.
    var audioDevice: String? { get set }
    /// Side of the square picture the decoder draws, pixels.
    var size: Int { get set }
    /// Frames per second.
    var fps: Double { get set }
    /// Threads the CPU decoder splits each picture over (`--threads`).
    var decoderThreads: Int { get set }
}

extension LivePanelSettings {
    /// Sets the display options from their command-line spellings (`--mode`, `--rotate`, `--fit`,
    /// `--background`, `--kms`); throws a one-line error naming the bad value.
    public mutating func setDisplay(mode: String, rotate: String, fit: String, background: String, kms: String) throws {
        self.mode = try ModeRequest(parsing: mode)
        rotation = try Rotation(parsing: rotate)
        self.fit = try FitMode(parsing: fit)
        self.background = try RGBColor(parsing: background)
        guard let interface = KMSInterface(rawValue: kms.lowercased()) else {
            throw RuntimeError("--kms '\(kms)' is not auto, atomic or legacy")
        }
        self.kms = interface
    }

    /// Takes the profile's display, audio, size, fps, threads and KMS defaults for every setting not in `given`
    /// (the long option names the user typed, e.g. "size", "audio-device"). The profile's display is a preference
    /// (``outputIsPreference``): a panel on another connector is used, with one line saying so.
    public mutating func apply(_ profile: BoardProfile, except given: Set<String>) throws {
        if !given.contains("size") { size = profile.size }
        if !given.contains("fps") { fps = profile.fps }
        if !given.contains("threads") { decoderThreads = profile.threads }
        if !given.contains("output"), let display = profile.display {
            output = display
            outputIsPreference = true
        }
        if !given.contains("audio-device") {
            audioDevice = profile.audio.lowercased() == "none" ? nil : profile.audio
        }
        if !given.contains("mode") { mode = try ModeRequest(parsing: profile.mode) }
        if !given.contains("kms") {
            guard let k = KMSInterface(rawValue: profile.kms) else {
                throw RuntimeError("board \(profile.id): kms '\(profile.kms)' must be auto, atomic or legacy")
            }
            kms = k
        }
    }

    /// Opens the display (``card``, else the first card in ``driDirectory`` with the output connected), takes DRM
    /// master, chooses connector and mode, reports them, and makes the painter that fits the picture to the screen.
    /// A missing or busy display fails here in one line, so callers do this before any other work.
    func openPanel(report: (String) -> Void) throws -> (KMSDisplay, LivePainter) {
        let atomic = kms != .legacy
        let drm = try card.map { try DRMCard(path: $0, master: true, atomic: atomic) }
            ?? DRMCard.find(directory: driDirectory, connector: output, preferred: outputIsPreference, master: true, atomic: atomic)
        let display = try KMSDisplay(card: drm, connector: output, preferred: outputIsPreference, mode: mode,
                                     interface: kms, background: background)
        if let note = display.connectorNote { report("display: " + note) }
        let painter = try LivePainter(options: self, screenWidth: display.width, screenHeight: display.height)
        report("display: \(drm.path) (\(drm.driver)), \(display.connector.name) \(display.mode), crtc \(display.crtc.id), \(display.interfaceName) KMS")
        return (display, painter)
    }
}
