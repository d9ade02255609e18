import CDRM
import Foundation

/// A CPU-mapped XRGB8888 scan-out buffer: a dumb buffer object, its framebuffer id and its mapping.
/// Freed (unmapped, framebuffer removed, buffer destroyed) on deinit.
final class DumbBuffer {
    let fd: Int32
    let width: Int
    let height: Int
    /// Bytes per row (at least `width * 4`; drivers may pad).
    let pitch: Int
    let handle: UInt32
    let framebufferID: UInt32
    let pixels: UnsafeMutableRawPointer
    private let size: Int

    /// Creates, maps and registers a `width × height` buffer on `card`, cleared to `fill`.
    init(card: DRMCard, width: Int, height: Int, fill: UInt32) throws {
        fd = card.fd
        self.width = width
        self.height = height
        var handle: UInt32 = 0, pitch: UInt32 = 0, size: UInt64 = 0
        try drmCall("DRM_IOCTL_MODE_CREATE_DUMB", context: card.path) {
            parla_drm_create_dumb(card.fd, UInt32(width), UInt32(height), 32, &handle, &pitch, &size)
        }
        self.handle = handle
        self.pitch = Int(pitch)
        self.size = Int(size)
        var fb: UInt32 = 0
        do {
            fb = try card.addFramebuffer(width: width, height: height, handle: handle, pitch: pitch)
            framebufferID = fb
            var offset: UInt64 = 0
            try drmCall("DRM_IOCTL_MODE_MAP_DUMB", context: card.path) { parla_drm_map_dumb(card.fd, handle, &offset) }
            let mapped = mmap(nil, Int(size), PROT_READ | PROT_WRITE, MAP_SHARED, card.fd, off_t(offset))
            guard let mapped, mapped != MAP_FAILED else {
                let code = errno
                throw DisplayError("\(card.path): " + describeFailure("mmap of a dumb buffer", errno: code), errno: code)
            }
            pixels = mapped
        } catch {
            if fb != 0 { drmModeRmFB(card.fd, fb) }
            _ = parla_drm_destroy_dumb(card.fd, handle)
            throw error
        }
        let row = pixels.assumingMemoryBound(to: UInt32.self)
        for y in 0..<height { (row + y * self.pitch / 4).update(repeating: fill, count: width) }
    }

    deinit {
        munmap(pixels, size)
        drmModeRmFB(fd, framebufferID)
        _ = parla_drm_destroy_dumb(fd, handle)
    }
}

extension DRMCard {
    /// Registers an XRGB8888 buffer object (`handle`, `pitch` bytes per row) as a framebuffer; returns its id.
    /// `drmModeAddFB2`, falling back to `drmModeAddFB` (depth 24, 32 bits per pixel) on drivers without it.
    func addFramebuffer(width: Int, height: Int, handle: UInt32, pitch: UInt32) throws -> UInt32 {
        var fb: UInt32 = 0
        var handles: (UInt32, UInt32, UInt32, UInt32) = (handle, 0, 0, 0)
        var pitches: (UInt32, UInt32, UInt32, UInt32) = (pitch, 0, 0, 0)
        var offsets: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
        let added = withUnsafePointer(to: &handles) { h in
            withUnsafePointer(to: &pitches) { p in
                withUnsafePointer(to: &offsets) { o in
                    drmModeAddFB2(fd, UInt32(width), UInt32(height), parla_drm_format_xrgb8888(),
                                  UnsafeRawPointer(h).assumingMemoryBound(to: UInt32.self),
                                  UnsafeRawPointer(p).assumingMemoryBound(to: UInt32.self),
                                  UnsafeRawPointer(o).assumingMemoryBound(to: UInt32.self), &fb, 0)
                }
            }
        }
        if added != 0 {
            try drmCall("drmModeAddFB", context: path) {
                drmModeAddFB(fd, UInt32(width), UInt32(height), 24, 32, pitch, handle, &fb)
            }
        }
        return fb
    }
}
