import CDRM

/// Atomic KMS: one commit sets connector, CRTC (mode blob, active) and primary plane; each new picture is a
/// non-blocking commit of the plane's `FB_ID` with a page-flip event.
final class AtomicPresenter: ScanoutPresenter {
    let name = "atomic"
    private let card: DRMCard
    private let crtcID: UInt32
    private let connectorID: UInt32
    private let planeID: UInt32
    private let mode: DisplayMode
    private let connectorProps: [String: UInt32]
    private let crtcProps: [String: UInt32]
    private let planeProps: [String: UInt32]
    private var modeBlob: UInt32 = 0

    /// Looks up every property the commits use; a missing one is named in the error.
    init(card: DRMCard, crtcID: UInt32, connectorID: UInt32, planeID: UInt32, mode: DisplayMode) throws {
        self.card = card
        self.crtcID = crtcID
        self.connectorID = connectorID
        self.planeID = planeID
        self.mode = mode
        connectorProps = card.propertyIDs(of: connectorID, type: UInt32(DRM_MODE_OBJECT_CONNECTOR))
        crtcProps = card.propertyIDs(of: crtcID, type: UInt32(DRM_MODE_OBJECT_CRTC))
        planeProps = card.propertyIDs(of: planeID, type: UInt32(DRM_MODE_OBJECT_PLANE))
        let needed: [(String, [String: UInt32], [String])] = [
            ("connector", connectorProps, ["CRTC_ID"]),
            ("CRTC", crtcProps, ["MODE_ID", "ACTIVE"]),
            ("plane", planeProps, ["FB_ID", "CRTC_ID", "SRC_X", "SRC_Y", "SRC_W", "SRC_H", "CRTC_X", "CRTC_Y", "CRTC_W", "CRTC_H"]),
        ]
        for (object, props, names) in needed {
            for n in names where props[n] == nil {
                throw DisplayError("\(card.path): the \(object) has no atomic property \(n) (try --kms legacy)")
            }
        }
    }

    func modeset(showing framebufferID: UInt32) throws {
        var info = mode.modeInfo
        var blob: UInt32 = 0
        try drmCall("drmModeCreatePropertyBlob", context: card.path) {
            drmModeCreatePropertyBlob(card.fd, &info, MemoryLayout<drmModeModeInfo>.size, &blob)
        }
        if modeBlob != 0 { drmModeDestroyPropertyBlob(card.fd, modeBlob) }
        modeBlob = blob
        let w = UInt64(mode.width), h = UInt64(mode.height)
        try commit([
            (connectorID, connectorProps["CRTC_ID"]!, UInt64(crtcID)),
            (crtcID, crtcProps["MODE_ID"]!, UInt64(blob)),
            (crtcID, crtcProps["ACTIVE"]!, 1),
            (planeID, planeProps["FB_ID"]!, UInt64(framebufferID)),
            (planeID, planeProps["CRTC_ID"]!, UInt64(crtcID)),
            (planeID, planeProps["SRC_X"]!, 0), (planeID, planeProps["SRC_Y"]!, 0),
            (planeID, planeProps["SRC_W"]!, w << 16), (planeID, planeProps["SRC_H"]!, h << 16),
            (planeID, planeProps["CRTC_X"]!, 0), (planeID, planeProps["CRTC_Y"]!, 0),
            (planeID, planeProps["CRTC_W"]!, w), (planeID, planeProps["CRTC_H"]!, h),
        ], flags: UInt32(DRM_MODE_ATOMIC_ALLOW_MODESET), userData: nil)
    }

    func flip(to framebufferID: UInt32, userData: UnsafeMutableRawPointer) throws {
        try commit([(planeID, planeProps["FB_ID"]!, UInt64(framebufferID))],
                   flags: UInt32(DRM_MODE_PAGE_FLIP_EVENT) | UInt32(DRM_MODE_ATOMIC_NONBLOCK), userData: userData)
    }

    func releaseResources() {
        if modeBlob != 0 { drmModeDestroyPropertyBlob(card.fd, modeBlob) }
        modeBlob = 0
    }

    private func commit(_ properties: [(UInt32, UInt32, UInt64)], flags: UInt32, userData: UnsafeMutableRawPointer?) throws {
        guard let request = drmModeAtomicAlloc() else { throw DisplayError("\(card.path): drmModeAtomicAlloc: out of memory") }
        defer { drmModeAtomicFree(request) }
        for (object, property, value) in properties {
            try drmCall("drmModeAtomicAddProperty", context: card.path) {
                drmModeAtomicAddProperty(request, object, property, value)
            }
        }
        try drmCall("drmModeAtomicCommit", context: card.path) {
            drmModeAtomicCommit(card.fd, request, flags, userData)
        }
    }
}
