import ParlaIO
import ParlaMedia
import ParlaMotion
import ParlaRender
import ParlaRenderGLES

/// Makes the GLES decoder of the GPU scan-out path on the given context (current on the GBM surface).
public typealias LiveScanoutDecoderFactory = (_ context: GLESContext, _ width: Int, _ height: Int) throws -> GLESFrameDecoder

/// The GPU path's pieces on one card: a GBM device and its EGL display, a scan-out surface of the mode's size,
/// and an OpenGL ES 3.1 context current on that surface.
final class LiveGPUScanout {
    let device: GBMDevice
    let surface: GBMSurface
    let context: GLESContext

    /// Opens GBM/EGL on `display`'s card and makes the context current on a surface of its mode's size; throws one
    /// line saying which step failed (no GBM backend, no XRGB8888 config, no GLES 3.1).
    init(display: KMSDisplay) throws {
        device = try GBMDevice(card: display.card)
        surface = try GBMSurface(device: device, width: display.width, height: display.height)
        context = try GLESContext(display: device.display, config: surface.config)
        try context.makeCurrent(surface: surface.eglSurface)
    }

    /// A line for `--list-outputs`: whether `card` gives a GBM/EGL context with GLES 3.1 compute (the GPU path).
    static func probe(card: DRMCard) -> String {
        do {
            let device = try GBMDevice(card: card)
            let config = try device.scanoutConfig()
            let context = try GLESContext(display: device.display, config: config)
            let kind = context.isSoftwareRenderer
                ? "software renderer: --backend gles scans out through GBM, auto keeps the CPU path"
                : "GPU scan-out with --backend gles or auto"
            return "  GBM/EGL: \(context.version), \(context.renderer) (EGL \(device.eglDescription)): GLES 3.1 compute yes; \(kind)"
        } catch {
            return "  GBM/EGL: no GLES 3.1 context (\(error)): CPU path (dumb buffers) only"
        }
    }
}

/// Puts a motion frame on the live screen, the same call on both paths:
/// * CPU path: the decoder draws into a picture, ``LivePainter`` scales it into the dumb back buffer (with the HUD);
/// * GPU path: the GLES decoder renders on the GPU and ``GLESScreenPainter`` draws it into the GBM surface, which
///   the next flip swaps (nothing is read back); the HUD box is drawn by the CPU into a small image when its text
///   changes and put over the picture by the GL painter.
final class LiveFrameDrawer {
    /// What draws, for the "decoder:" line.
    let description: String
    private let decoder: (any FrameDecoder)?
    private var picture: RGBAImage
    private let painter: LivePainter
    private let gpu: (scanout: LiveGPUScanout, decoder: GLESFrameDecoder, painter: GLESScreenPainter)?
    /// The HUD lines the GL painter's overlay shows (nil: none).
    private var overlayLines: [String]?

    /// The CPU path: `decoder` (any backend) and the blit into dumb buffers.
    init(decoder: any FrameDecoder, painter: LivePainter) {
        self.decoder = decoder
        self.painter = painter
        picture = RGBAImage(width: decoder.width, height: decoder.height)
        gpu = nil
        description = "\(type(of: decoder)) (\(decoder.width)x\(decoder.height)), copied into dumb buffers"
    }

    /// The GPU path on `scanout`: makes the decoder with `makeDecoder` and the screen painter, draws the first
    /// picture (the background) and hands the surface to `display`.
    init(scanout: LiveGPUScanout, display: KMSDisplay, painter: LivePainter, size: Int,
         makeDecoder: LiveScanoutDecoderFactory, background: RGBColor) throws {
        let decoder = try makeDecoder(scanout.context, size, size)
        let screen = try Self.screenPainter(layout: painter.layout, background: background)
        // Drivers that compile shaders on first use (llvmpipe: 27 s in the TCG guest) pay that here, before the
        // clock starts, instead of in the first picture.
        let start = MonotonicClock.now()
        try decoder.render(MotionFrame(time: 0))
        try screen.draw(frameBuffer: decoder.frameBuffer)
        screen.finish()
        let warmUp = MonotonicClock.now() - start
        try screen.clear()
        try display.useGBMSurface(scanout.surface)
        self.decoder = nil
        self.painter = painter
        picture = RGBAImage(width: 1, height: 1)
        gpu = (scanout, decoder, screen)
        description = "GLESFrameDecoder (\(size)x\(size)) on \(scanout.context.renderer), drawn into a GBM surface"
            + String(format: " (first frame %.1f s)", warmUp)
    }

    /// The GL painter that puts a picture where `layout` (the CPU path's geometry) says: the content rectangle's
    /// corners with the source points they show.
    static func screenPainter(layout: FrameLayout, background: RGBColor) throws -> GLESScreenPainter {
        let corners = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)].map { (fx: Double, fy: Double) -> GLESScreenPainter.Corner in
            let x = layout.contentX + fx * layout.contentWidth, y = layout.contentY + fy * layout.contentHeight
            let source = layout.sourcePoint(x: x, y: y)
            return GLESScreenPainter.Corner(x: x, y: y, u: source.x / Double(layout.sourceWidth),
                                            v: source.y / Double(layout.sourceHeight))
        }
        return try GLESScreenPainter(sourceWidth: layout.sourceWidth, sourceHeight: layout.sourceHeight,
                                     screenWidth: layout.targetWidth, screenHeight: layout.targetHeight,
                                     corners: corners, background: (background.red, background.green, background.blue))
    }

    /// Gives `screen` the overlay `lines` make (the box ``HUDOverlay/draw(_:into:pitch:origin:)`` draws on the
    /// CPU path, as an image already turned), or none for nil or a box that falls off the screen.
    static func setOverlay(_ lines: [String]?, drawnBy overlay: HUDOverlay, on screen: GLESScreenPainter) throws {
        guard let lines else { return screen.hideOverlay() }
        let image = overlay.image(for: lines)
        guard image.width > 0, image.height > 0 else { return screen.hideOverlay() }
        try screen.setOverlay(rgba: image.rgba, x: image.x, y: image.y, width: image.width, height: image.height)
    }

    /// Draws `frame`: into `target` on the CPU path, into the GBM surface on the GPU path (`target` is nil there);
    /// with the overlay when `hud` is given (on the GPU path drawn and uploaded again only when its text changed).
    func draw(_ frame: MotionFrame, into target: ScanoutTarget?, hud: LiveHUD.Reading?) throws {
        if let gpu {
            try gpu.decoder.render(frame)
            let lines = hud.map(LivePainter.hudLines)
            if lines != overlayLines {
                try Self.setOverlay(lines, drawnBy: painter.overlay, on: gpu.painter)
                overlayLines = lines
            }
            try gpu.painter.draw(frameBuffer: gpu.decoder.frameBuffer)
            return
        }
        guard let decoder, let target else { throw RuntimeError("live: no scan-out buffer to draw into") }
        try decoder.decode(frame, into: &picture)
        painter.paint(picture, into: target, hud: hud)
    }
}

extension LiveJob {
    /// Chooses the scan-out path for `display` (see docs/live.md): the GPU path when `--backend` is gles, or auto
    /// on a hardware GPU, and the card gives a GBM/EGL context with GLES 3.1; otherwise the dumb-buffer path, with
    /// one line saying why when the GPU path was asked for.
    func chooseScanout(display: KMSDisplay, makeScanoutDecoder: LiveScanoutDecoderFactory?) -> LiveGPUScanout? {
        let o = options
        guard o.backend != .cpu else { return nil }
        let fallback = "dumb buffers (CPU copy)"
        guard makeScanoutDecoder != nil else {
            report("display: \(fallback): the decoder given cannot draw into a GBM surface")
            return nil
        }
        let scanout: LiveGPUScanout
        do {
            scanout = try LiveGPUScanout(display: display)
        } catch {
            report("display: GBM/EGL scan-out unavailable (\(error)); \(fallback)")
            return nil
        }
        if o.backend == .auto && scanout.context.isSoftwareRenderer {
            report("display: \(fallback): GBM/EGL renders with \(scanout.context.renderer) (software), where the CPU decoder is cheaper; --backend gles scans out through GBM anyway")
            return nil
        }
        report("display: GBM/EGL scan-out (GBM backend \(scanout.device.backend), EGL \(scanout.device.eglDescription)), \(scanout.context.version), \(scanout.context.renderer)")
        return scanout
    }

    /// The drawer for the path chosen: on the GPU path the GLES decoder from `makeScanoutDecoder`; else the decoder
    /// from `makeDecoder`. Checks the decoder's size and reports it.
    func makeDrawer(display: KMSDisplay, painter: LivePainter, scanout: LiveGPUScanout?, makeDecoder: LiveDecoderFactory,
                    makeScanoutDecoder: LiveScanoutDecoderFactory?) throws -> LiveFrameDrawer {
        let o = options
        let drawer: LiveFrameDrawer
        if let scanout, let makeScanoutDecoder {
            drawer = try LiveFrameDrawer(scanout: scanout, display: display, painter: painter, size: o.size,
                                         makeDecoder: makeScanoutDecoder, background: o.background)
        } else {
            let decoder = try makeDecoder(o.size, o.size)
            guard decoder.width == o.size, decoder.height == o.size else {
                throw RuntimeError("the frame decoder draws \(decoder.width)x\(decoder.height), not \(o.size)x\(o.size)")
            }
            drawer = LiveFrameDrawer(decoder: decoder, painter: painter)
        }
        report("decoder: \(drawer.description)")
        return drawer
    }
}
