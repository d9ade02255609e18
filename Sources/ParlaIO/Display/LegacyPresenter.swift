import CDRM

/// Legacy KMS: `drmModeSetCrtc` for the mode, `drmModePageFlip` with an event for each new picture.
final class LegacyPresenter: ScanoutPresenter {
    let name = "legacy"
    private let card: DRMCard
    private let crtcID: UInt32
    private let connectorID: UInt32
    private let mode: DisplayMode

    init(card: DRMCard, crtcID: UInt32, connectorID: UInt32, mode: DisplayMode) {
        self.card = card
        self.crtcID = crtcID
        self.connectorID = connectorID
        self.mode = mode
    }

    func modeset(showing framebufferID: UInt32) throws {
        var info = mode.modeInfo
        var connector = connectorID
        try drmCall("drmModeSetCrtc", context: card.path) {
            drmModeSetCrtc(card.fd, crtcID, framebufferID, 0, 0, &connector, 1, &info)
        }
    }

    func flip(to framebufferID: UInt32, userData: UnsafeMutableRawPointer) throws {
        try drmCall("drmModePageFlip", context: card.path) {
            drmModePageFlip(card.fd, crtcID, framebufferID, UInt32(DRM_MODE_PAGE_FLIP_EVENT), userData)
        }
    }

    func releaseResources() {}
}
