/// Which KMS interface drives the display (`--kms`).
public enum KMSInterface: String, Sendable, CaseIterable {
    /// Atomic when the driver supports it, else legacy.
    case auto
    /// Atomic commits (plane properties, one commit per flip); fails if the driver lacks them.
    case atomic
    /// `drmModeSetCrtc` + `drmModePageFlip`.
    case legacy
}

/// Puts buffers on the screen: one implementation per KMS interface, chosen once by ``KMSDisplay``
/// (kmscube's `init_drm_legacy` / `init_drm_atomic` split).
protocol ScanoutPresenter: AnyObject {
    /// "atomic" or "legacy".
    var name: String { get }
    /// Sets the mode and shows framebuffer `framebufferID` (a dumb buffer's or a GBM buffer object's); returns when
    /// it is on screen.
    func modeset(showing framebufferID: UInt32) throws
    /// Queues framebuffer `framebufferID` for the next vblank; completion arrives as a page-flip event carrying
    /// `userData`.
    func flip(to framebufferID: UInt32, userData: UnsafeMutableRawPointer) throws
    /// Releases what the presenter created (mode blobs); called after the previous CRTC state is back.
    func releaseResources()
}
