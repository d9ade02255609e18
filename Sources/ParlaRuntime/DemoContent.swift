import Foundation

/// The bundled default content: a public-domain portrait and a speech clip (see NOTICE for their sources).
/// Used by `parla bench` and by `parla render` when asked for the demo.
public enum DemoContent {
    /// Grace Hopper's official US Navy portrait (public domain), from matplotlib's sample data.
    public static var portrait: URL { get throws { try locate("portrait.jpg") } }
    /// 16.5 s of English speech synthesized with espeak-ng 1.51 (voice en-us, 150 wpm), 16 kHz mono.
    public static var speech: URL { get throws { try locate("speech.wav") } }

    private static func locate(_ name: String) throws -> URL {
        if let dir = ProcessInfo.processInfo.environment["PARLA_DEMO"] {
            return URL(fileURLWithPath: dir).appendingPathComponent(name)
        }
        let installed = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("share/parla/demo").appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: installed.path) { return installed }
        if let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Demo") { return url }
        throw RuntimeError("bundled demo file \(name) not found (set PARLA_DEMO to its folder)")
    }
}
