import CDRM
import Foundation

/// Where a draw callback paints: one XRGB8888 scan-out buffer, `pitch` bytes per row.
public struct ScanoutTarget {
    /// The buffer's first byte (row 0, XRGB8888 little-endian).
    public let pixels: UnsafeMutableRawPointer
    /// Bytes from one row to the next.
    public let pitch: Int
    /// Pixels per row.
    public let width: Int
    /// Rows.
    public let height: Int

    /// A target over `pixels` (at least `pitch × height` bytes).
    public init(pixels: UnsafeMutableRawPointer, pitch: Int, width: Int, height: Int) {
        self.pixels = pixels
        self.pitch = pitch
        self.width = width
        self.height = height
    }
}

/// Timing of the picture currently on screen, handed to the draw callback.
public struct FlipTiming: Sendable {
    /// Pictures flipped so far (0 before the first flip after the modeset).
    public var flips: Int
    /// CLOCK_MONOTONIC seconds of the vblank the current picture appeared at (the kernel's event timestamp;
    /// the modeset's return time before the first flip).
    public var lastFlipTime: Double
    /// The mode's frame period in seconds.
    public var refreshPeriod: Double
    /// Pictures painted and handed to the display that never appeared (a flip failed, or the panel was unplugged
    /// while it was pending); when this grows, the last picture chosen is not the one on screen.
    public var lost = 0
}

/// What the draw callback did.
public enum PresentDecision: Sendable, Equatable {
    /// It painted the target: flip to it and wait for the flip to complete.
    case present
    /// Nothing new to show yet: call again at this CLOCK_MONOTONIC time (or at the next stop request).
    case skip(until: Double)
    /// Leave the loop.
    case stop
}

/// A KMS output: chooses connector, mode, CRTC and (atomic) primary plane, sets the mode, flips pictures painted by
/// a callback (kmscube's `run(draw:)`: the loop never knows what it draws), and restores the CRTC it found.
///
/// Two kinds of scan-out buffer: two CPU-mapped dumb buffers (the CPU path, the default), or a ``GBMSurface`` that
/// GL draws into (the GPU path, ``useGBMSurface(_:)``): then each picture is `eglSwapBuffers`, the locked buffer
/// object's framebuffer is flipped to, and the buffer it replaced goes back to GBM once the flip has landed.
public final class KMSDisplay {
    /// The device it drives.
    public let card: DRMCard
    /// The output it shows on.
    public let connector: ConnectorInfo
    /// Why the preferred connector was passed over for ``connector`` (see `init`'s `preferred`), nil when it was not.
    public let connectorNote: String?
    /// The mode it sets.
    public let mode: DisplayMode
    /// The CRTC it uses, as found at start (the state ``restore()`` puts back).
    public let crtc: CRTCInfo
    /// "atomic" or "legacy".
    public var interfaceName: String { presenter.name }
    /// The mode's width in pixels.
    public var width: Int { mode.width }
    /// The mode's height in pixels.
    public var height: Int { mode.height }

    private let presenter: ScanoutPresenter
    private var buffers: [DumbBuffer]
    /// The GL surface scanned out instead of ``buffers`` (the GPU path).
    public private(set) var gbmSurface: GBMSurface?
    private let saved: drmModeCrtcPtr?
    private let event = UnsafeMutablePointer<parla_flip_event>.allocate(capacity: 1)
    private var front = 0
    private var modeSet = false
    private var restored = false
    /// Seconds to wait for a flip before giving up.
    static let flipTimeout = 5.0

    /// Prepares the output; nothing changes on screen until ``run(stop:draw:)``.
    /// - Parameters:
    ///   - connectorName: e.g. "HDMI-A-1"; nil takes the first connected connector.
    ///   - preferred: `connectorName` is a default (a board profile's), not the user's `--output`: when it is not
    ///     connected the first connected connector is taken and ``connectorNote`` says so.
    ///   - background: the colour both buffers start with.
    public init(card: DRMCard, connector connectorName: String?, preferred: Bool = false, mode request: ModeRequest,
                interface: KMSInterface, background: RGBColor) throws {
        self.card = card
        let inventory = try card.inventory()
        if let connectorName, preferred {
            (connector, connectorNote) = try inventory.connector(preferring: connectorName)
        } else {
            connector = try inventory.connector(named: connectorName)
            connectorNote = nil
        }
        mode = try request.select(from: connector.modes, connector: connector.name)
        crtc = try inventory.crtc(for: connector)
        switch interface {
        case .legacy:
            presenter = LegacyPresenter(card: card, crtcID: crtc.id, connectorID: connector.id, mode: mode)
        case .atomic, .auto:
            if card.atomic {
                let plane = try inventory.primaryPlane(for: crtc)
                presenter = try AtomicPresenter(card: card, crtcID: crtc.id, connectorID: connector.id, planeID: plane.id, mode: mode)
            } else if interface == .atomic {
                throw DisplayError("\(card.path) (driver \(card.driver)) does not support atomic modesetting (use --kms legacy or auto)")
            } else {
                presenter = LegacyPresenter(card: card, crtcID: crtc.id, connectorID: connector.id, mode: mode)
            }
        }
        let size = (mode.width, mode.height)
        buffers = try (0..<2).map { _ in
            try DumbBuffer(card: card, width: size.0, height: size.1, fill: background.xrgb)
        }
        saved = drmModeGetCrtc(card.fd, crtc.id)
        event.initialize(to: parla_flip_event())
    }

    deinit {
        _ = try? restore()
        if let saved { drmModeFreeCrtc(saved) }
        event.deallocate()
    }

    /// Where "display: …" lines about hotplug go (panel unplugged, back).
    public var report: (String) -> Void = { _ in }
    /// Times the panel went away during ``run(stop:draw:)``.
    public private(set) var unplugs = 0
    private let hotplug = HotplugMonitor()

    /// Sets the mode, then alternates: `draw` paints the back buffer, the loop flips to it and waits for the
    /// flip event. Returns when `draw` says `.stop` or `stop` fires (after any pending flip completed). An
    /// unplugged panel pauses the flipping until it is back (see ``ScanoutLoop``).
    /// The caller restores the previous CRTC with ``restore()`` (also done on deinit).
    /// Dumb buffers only: with a GBM surface use ``present(stop:draw:)``.
    public func run(stop: StopSignal, draw: (ScanoutTarget, FlipTiming) throws -> PresentDecision) throws {
        guard gbmSurface == nil else {
            throw DisplayError("\(card.path): this display scans out a GBM surface: draw with GL (KMSDisplay.present)")
        }
        try present(stop: stop) { target, timing in try draw(target!, timing) }
    }

    /// ``run(stop:draw:)`` for either kind of buffer: `draw` gets the dumb back buffer to paint, or nil when a
    /// ``GBMSurface`` is scanned out (then it draws with GL into the surface, current on this thread, and the flip
    /// swaps it).
    public func present(stop: StopSignal, draw: (ScanoutTarget?, FlipTiming) throws -> PresentDecision) throws {
        var loop = ScanoutLoop()
        loop.report = report
        defer { unplugs = loop.unplugs }
        try loop.run(device: self, stop: stop) { timing in try draw(self.backTarget(), timing) }
    }

    /// ``present(stop:draw:)``, then ``restore()`` — also when the loop throws (its error wins over a failed
    /// restore) — so the CRTC found is always put back. Returns what ``restore()`` did.
    public func presentThenRestore(stop: StopSignal, draw: (ScanoutTarget?, FlipTiming) throws -> PresentDecision) throws -> String {
        do {
            try present(stop: stop, draw: draw)
        } catch {
            _ = try? restore()
            throw error
        }
        return try restore()
    }

    /// Scans out `surface` (made for this mode's size) instead of the dumb buffers, which are freed. Call before
    /// ``present(stop:draw:)``, after drawing the first picture into the surface (the modeset shows it).
    public func useGBMSurface(_ surface: GBMSurface) throws {
        guard surface.width == width, surface.height == height else {
            throw DisplayError("\(card.path): the GBM surface is \(surface.width)x\(surface.height), the mode \(width)x\(height)")
        }
        guard !modeSet else { throw DisplayError("\(card.path): the scan-out buffers cannot change after the modeset") }
        gbmSurface = surface
        buffers = []
    }

    /// The dumb back buffer to paint (nil on the GPU path).
    private func backTarget() -> ScanoutTarget? {
        guard gbmSurface == nil else { return nil }
        let back = buffers[1 - front]
        return ScanoutTarget(pixels: back.pixels, pitch: back.pitch, width: back.width, height: back.height)
    }

    /// Waits for the pending flip's event; a stop request does not cut this short (the flip must land before the
    /// CRTC can be restored).
    private func waitForFlip(stop: StopSignal) throws {
        let deadline = MonotonicClock.now() + Self.flipTimeout
        while event.pointee.count == 0 {
            let left = deadline - MonotonicClock.now()
            guard left > 0 else {
                throw DisplayError("\(card.path): no page-flip completion within \(Int(Self.flipTimeout)) s (driver \(card.driver), \(presenter.name) KMS)")
            }
            var p = pollfd(fd: card.fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, Int32(left * 1000) + 1)
            if r < 0 {
                if errno == EINTR { continue }
                let code = errno
                throw DisplayError("\(card.path): " + describeFailure("poll", errno: code), errno: code)
            }
            if r > 0 {
                try drmCall("drmHandleEvent", context: card.path) { parla_drm_handle_events(card.fd) }
            }
        }
    }

    /// Puts back the CRTC state found at start (mode, framebuffer, position), then reads it back to check.
    /// Idempotent. Returns a line saying what was restored.
    @discardableResult
    public func restore() throws -> String {
        guard !restored else { return "display already restored" }
        restored = true
        defer { presenter.releaseResources() }
        guard modeSet else { return "display untouched" }
        guard let saved else { return "crtc \(crtc.id): previous state unknown, left as is" }
        var connectorID = connector.id
        let s = saved.pointee
        if s.mode_valid != 0 && s.buffer_id != 0 {
            var m = s.mode
            let result = drmModeSetCrtc(card.fd, s.crtc_id, s.buffer_id, s.x, s.y, &connectorID, 1, &m)
            if result != 0 {
                // The framebuffer we found (e.g. another program's) is gone: switch the CRTC off instead; the
                // kernel console takes the display back when we close the device.
                let code = errno
                try drmCall("drmModeSetCrtc (switching off)", context: card.path) {
                    drmModeSetCrtc(card.fd, s.crtc_id, 0, 0, 0, nil, 0, nil)
                }
                return "crtc \(s.crtc_id): could not restore framebuffer \(s.buffer_id) (\(describeFailure("drmModeSetCrtc", errno: code))), switched it off"
            }
        } else {
            try drmCall("drmModeSetCrtc (switching off)", context: card.path) {
                drmModeSetCrtc(card.fd, s.crtc_id, 0, 0, 0, nil, 0, nil)
            }
        }
        guard let now = drmModeGetCrtc(card.fd, s.crtc_id) else { return "crtc \(s.crtc_id): restored (not read back)" }
        defer { drmModeFreeCrtc(now) }
        let before = s.mode_valid != 0 ? DisplayMode(s.mode).description : "off"
        let after = now.pointee.mode_valid != 0 ? DisplayMode(now.pointee.mode).description : "off"
        guard before == after, now.pointee.buffer_id == s.buffer_id else {
            throw DisplayError("\(card.path): crtc \(s.crtc_id) not restored: it shows \(after), framebuffer \(now.pointee.buffer_id) instead of \(before), framebuffer \(s.buffer_id)")
        }
        return "restored crtc \(s.crtc_id) to \(before), framebuffer \(s.buffer_id)"
    }
}

extension KMSDisplay: ScanoutDevice {
    var outputName: String { "\(connector.name) on \(card.path)" }
    var modeDescription: String { mode.description }
    var refreshPeriod: Double { 1 / max(1, mode.refreshRate) }

    func modeset() throws {
        if let surface = gbmSurface {
            // The first modeset shows the picture drawn before the loop; a later one (panel back) the front one.
            if let fb = surface.frontFramebuffer {
                try presenter.modeset(showing: fb)
            } else {
                let fb = try surface.swap()
                do { try presenter.modeset(showing: fb) } catch { surface.flipFailed(); throw error }
                surface.shownByModeset()
            }
        } else {
            try presenter.modeset(showing: buffers[front].framebufferID)
        }
        modeSet = true
    }

    func flip(stop: StopSignal) throws -> Double {
        event.pointee = parla_flip_event()
        if let surface = gbmSurface {
            let fb = try surface.swap()
            do {
                try presenter.flip(to: fb, userData: UnsafeMutableRawPointer(event))
                try waitForFlip(stop: stop)
            } catch {
                surface.flipFailed()
                throw error
            }
            surface.flipLanded()
        } else {
            try presenter.flip(to: buffers[1 - front].framebufferID, userData: UnsafeMutableRawPointer(event))
            try waitForFlip(stop: stop)
            front = 1 - front
        }
        return event.pointee.time_us > 0 ? Double(event.pointee.time_us) / 1e6 : MonotonicClock.now()
    }

    func presence() -> OutputPresence {
        // drmModeGetConnector (not ...Current) makes the driver probe the connector now.
        guard let c = drmModeGetConnector(card.fd, connector.id) else { return .absent }
        defer { drmModeFreeConnector(c) }
        guard c.pointee.connection == DRM_MODE_CONNECTED else { return .absent }
        let offered = (0..<Int(c.pointee.count_modes)).map { DisplayMode(c.pointee.modes[$0]) }
        return offered.contains { $0.width == mode.width && $0.height == mode.height && abs($0.refreshRate - mode.refreshRate) < 0.01 }
            ? .ready : .modeMissing
    }

    func hotplugEventPending() -> Bool { hotplug.drain() }

    func waitForHotplug(seconds: Double, stop: StopSignal) -> Bool { hotplug.wait(seconds: seconds, stop: stop) }
}
