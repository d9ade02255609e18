/// Whether the output is there, as a fresh probe of the connector says.
enum OutputPresence: Sendable, Equatable {
    /// Connected and still offering the mode in use.
    case ready
    /// Connected, but the mode in use is not among the modes offered (another panel came back).
    case modeMissing
    /// Unplugged (or the connector is gone).
    case absent
}

/// What the flip loop needs from a display: ``KMSDisplay`` implements it with DRM; tests use a fake to drive
/// the hotplug logic without hardware.
protocol ScanoutDevice: AnyObject {
    /// "Virtual-1 on /dev/dri/card0", for messages.
    var outputName: String { get }
    /// The mode in use (for messages).
    var modeDescription: String { get }
    /// The mode's frame period in seconds.
    var refreshPeriod: Double { get }
    /// Sets the mode and shows the front buffer.
    func modeset() throws
    /// Flips to the back buffer and waits for the flip to land (not cut short by `stop`); makes it the front
    /// buffer and returns the CLOCK_MONOTONIC time it appeared at. Throws when the flip fails or never lands.
    func flip(stop: StopSignal) throws -> Double
    /// Probes the connector now.
    func presence() -> OutputPresence
    /// Whether a hotplug event arrived since the last call (drains them; false where events are not watched).
    func hotplugEventPending() -> Bool
    /// Sleeps until a hotplug event, `stop`, or `seconds`; returns true when stopped.
    func waitForHotplug(seconds: Double, stop: StopSignal) -> Bool
}

/// The flip loop (kmscube's `run(draw:)`) with hotplug handling: `draw` paints the next picture, the loop flips
/// it and waits for the flip event. When a flip fails or never lands, or a hotplug event says so, the connector is
/// probed: if it is unplugged, the loop stops flipping and waits (the caller's sound keeps playing on its own
/// thread), probing on each hotplug event and every ``probeInterval`` seconds, and sets the mode again when the
/// panel is back. A flip failure with the panel present is retried once after setting the mode again (some
/// drivers switch the CRTC off around a link failure); a second one in a row ends the run with the error.
struct ScanoutLoop {
    /// Seconds between connector probes while unplugged (hotplug events wake it earlier).
    static let probeInterval = 0.5
    /// Where "display: …" lines go (unplugged, back, mode missing).
    var report: (String) -> Void = { _ in }
    /// Times the output went away and times it came back, since the start.
    private(set) var unplugs = 0
    private(set) var replugs = 0

    /// Runs until `draw` returns `.stop` or `stop` fires. The device's mode must not be set yet.
    mutating func run(device: ScanoutDevice, stop: StopSignal,
                      draw: (FlipTiming) throws -> PresentDecision) throws {
        try device.modeset()
        var timing = FlipTiming(flips: 0, lastFlipTime: MonotonicClock.now(), refreshPeriod: device.refreshPeriod)
        var connected = true
        var failedInARow = 0
        var toldModeMissing = false
        while !stop.isTriggered {
            if !connected {
                if device.waitForHotplug(seconds: Self.probeInterval, stop: stop) { break }
                _ = device.hotplugEventPending()
                switch device.presence() {
                case .absent:
                    continue
                case .modeMissing:
                    if !toldModeMissing {
                        report("display: \(device.outputName) is back but does not offer \(device.modeDescription); waiting for a panel that does")
                        toldModeMissing = true
                    }
                    continue
                case .ready:
                    do {
                        try device.modeset()
                    } catch {
                        report("display: \(device.outputName) is back but setting \(device.modeDescription) failed (\(error)); still waiting")
                        continue
                    }
                    connected = true
                    toldModeMissing = false
                    replugs += 1
                    timing.lastFlipTime = MonotonicClock.now()
                    timing.lost += 1   // the picture chosen before the unplug never appeared
                    report("display: \(device.outputName) is back: scan-out resumed at \(device.modeDescription)")
                    continue
                }
            }
            if device.hotplugEventPending(), device.presence() == .absent {
                connected = false
                unplugs += 1
                report("display: \(device.outputName) was unplugged: the sound goes on; waiting for it to come back")
                continue
            }
            switch try draw(timing) {
            case .stop:
                return
            case let .skip(until):
                _ = stop.wait(seconds: until - MonotonicClock.now())
            case .present:
                do {
                    timing.lastFlipTime = try device.flip(stop: stop)
                    timing.flips += 1
                    failedInARow = 0
                } catch {
                    timing.lost += 1
                    if device.presence() != .ready {
                        connected = false
                        unplugs += 1
                        report("display: \(device.outputName) went away (\(error)): the sound goes on; waiting for it to come back")
                        continue
                    }
                    failedInARow += 1
                    guard failedInARow < 2 else { throw error }
                    report("display: \(error); setting \(device.modeDescription) again")
                    try device.modeset()
                    timing.lastFlipTime = MonotonicClock.now()
                }
            }
        }
    }
}
