import CDRM
import CEGL

/// A GBM scan-out surface (XRGB8888, `GBM_BO_USE_SCANOUT | GBM_BO_USE_RENDERING`) with its EGL window surface:
/// GL draws into it, `eglSwapBuffers` hands the picture to GBM, and the buffer object GBM returns
/// (`gbm_surface_lock_front_buffer`) is what ``KMSDisplay`` flips to. Each buffer object gets its framebuffer id
/// once, kept as the object's user data and removed when GBM destroys the object (kmscube's `drm_fb_get_from_bo`).
///
/// Buffer ownership: the buffer on screen stays locked; a swapped picture's buffer is locked until its flip has
/// landed, then the one it replaced goes back to GBM (`gbm_surface_release_buffer`). With two or three buffers in
/// the surface, GL never draws into the one being scanned out.
public final class GBMSurface {
    /// The device it was made on.
    public let device: GBMDevice
    /// The `struct gbm_surface *`.
    public let surface: OpaquePointer
    /// The EGL window surface on it (draw to it with a context made with ``config``).
    public let eglSurface: EGLSurface
    /// The EGL config of ``eglSurface``.
    public let config: EGLConfig
    /// Pixels per row.
    public let width: Int
    /// Rows.
    public let height: Int
    /// The buffer object on screen, and the one whose flip is queued.
    private var front: OpaquePointer?
    private var pending: OpaquePointer?

    /// Creates a `width × height` scan-out surface and its EGL window surface.
    public init(device: GBMDevice, width: Int, height: Int) throws {
        let path = device.card.path
        config = try device.scanoutConfig()
        let usage = UInt32(GBM_BO_USE_SCANOUT.rawValue | GBM_BO_USE_RENDERING.rawValue)
        guard let surface = gbm_surface_create(device.device, UInt32(width), UInt32(height), parla_drm_format_xrgb8888(), usage) else {
            throw DisplayError("\(path): gbm_surface_create (\(width)x\(height) XRGB8888, scan-out + rendering) failed")
        }
        guard let eglSurface = eglCreatePlatformWindowSurface(device.display, config, UnsafeMutableRawPointer(surface), nil) else {
            let error = String(cString: parla_egl_last_error())
            gbm_surface_destroy(surface)
            throw DisplayError("\(path): eglCreatePlatformWindowSurface on the GBM surface failed (\(error))")
        }
        self.device = device
        self.surface = surface
        self.eglSurface = eglSurface
        self.width = width
        self.height = height
    }

    deinit {
        if let pending { gbm_surface_release_buffer(surface, pending) }
        if let front { gbm_surface_release_buffer(surface, front) }
        eglDestroySurface(device.display, eglSurface)
        gbm_surface_destroy(surface)   // destroys the buffer objects; their user data removes the framebuffers
    }

    /// The framebuffer on screen (nil before the first ``swap()``).
    var frontFramebuffer: UInt32? { front.map(framebuffer(cached:)) }

    /// Ends the picture GL drew (`eglSwapBuffers`, on the thread whose current context draws to ``eglSurface``),
    /// locks its buffer object and returns that object's framebuffer id, to be flipped to.
    /// A picture swapped but not yet confirmed by ``flipLanded()`` or ``flipFailed()`` is released first.
    func swap() throws -> UInt32 {
        if pending != nil { flipFailed() }
        guard eglSwapBuffers(device.display, eglSurface) == EGLBoolean(EGL_TRUE) else {
            throw DisplayError("\(device.card.path): eglSwapBuffers failed (\(String(cString: parla_egl_last_error())))")
        }
        guard let bo = gbm_surface_lock_front_buffer(surface) else {
            throw DisplayError("\(device.card.path): gbm_surface_lock_front_buffer failed (no buffer free in the GBM surface)")
        }
        do {
            let fb = try framebuffer(for: bo)
            pending = bo
            return fb
        } catch {
            gbm_surface_release_buffer(surface, bo)
            throw error
        }
    }

    /// The swapped picture is on screen: the buffer it replaced goes back to GBM for GL to draw into.
    func flipLanded() {
        guard let pending else { return }
        if let front { gbm_surface_release_buffer(surface, front) }
        front = pending
        self.pending = nil
    }

    /// The swapped picture never reached the screen (the flip failed): its buffer goes back to GBM.
    func flipFailed() {
        guard let pending else { return }
        gbm_surface_release_buffer(surface, pending)
        self.pending = nil
    }

    /// The picture just swapped becomes the front one without a flip (it was shown by a modeset).
    func shownByModeset() { flipLanded() }

    // MARK: - Internal

    private func framebuffer(for bo: OpaquePointer) throws -> UInt32 {
        if gbm_bo_get_user_data(bo) != nil { return framebuffer(cached: bo) }
        let fb = try device.card.addFramebuffer(width: Int(gbm_bo_get_width(bo)), height: Int(gbm_bo_get_height(bo)),
                                                handle: gbm_bo_get_handle(bo).u32, pitch: gbm_bo_get_stride(bo))
        let record = UnsafeMutablePointer<UInt32>.allocate(capacity: 2)
        record[0] = UInt32(bitPattern: device.card.fd)
        record[1] = fb
        gbm_bo_set_user_data(bo, record, releaseFramebuffer)
        return fb
    }

    private func framebuffer(cached bo: OpaquePointer) -> UInt32 {
        gbm_bo_get_user_data(bo).map { $0.assumingMemoryBound(to: UInt32.self)[1] } ?? 0
    }
}

/// GBM's destroy callback for a buffer object's user data (descriptor, framebuffer id): removes the framebuffer.
private let releaseFramebuffer: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { _, data in
    guard let record = data?.assumingMemoryBound(to: UInt32.self) else { return }
    drmModeRmFB(Int32(bitPattern: record[0]), record[1])
    record.deallocate()
}
