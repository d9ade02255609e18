import CDRM
import CEGL

/// A GBM device on a DRM card's file descriptor and the EGL display made from it
/// (`eglGetPlatformDisplay(EGL_PLATFORM_GBM_KHR, …)`, kmscube's `init_egl`): where the GPU path gets its
/// scan-out surfaces (``GBMSurface``) and its GL context (ParlaRenderGLES' `GLESContext(display:config:)`).
///
/// On Mesa the GBM backend is the card's own GPU driver, or `kms_swrast` (llvmpipe rendering into dumb buffers)
/// on a display-only card such as virtio-gpu without virgl. The EGL display is terminated and the GBM device
/// destroyed on deinit; contexts made on the display must be gone by then.
public final class GBMDevice {
    /// The card whose descriptor GBM uses (kept open while the device lives).
    public let card: DRMCard
    /// The `struct gbm_device *`.
    public let device: OpaquePointer
    /// The initialized EGL display of the GBM platform.
    public let display: EGLDisplay
    /// `gbm_device_get_backend_name`, e.g. "drm".
    public let backend: String
    /// The EGL implementation's version and vendor, e.g. "1.5 Mesa Project".
    public let eglDescription: String

    /// Creates the GBM device and initializes its EGL display; throws one line naming the call that failed.
    public init(card: DRMCard) throws {
        guard let device = gbm_create_device(card.fd) else {
            throw DisplayError("\(card.path): gbm_create_device failed (no GBM backend for driver \(card.driver); install libgbm1 and Mesa's DRI drivers)")
        }
        guard let display = eglGetPlatformDisplay(EGLenum(EGL_PLATFORM_GBM_KHR), UnsafeMutableRawPointer(device), nil) else {
            gbm_device_destroy(device)
            throw DisplayError("\(card.path): eglGetPlatformDisplay(EGL_PLATFORM_GBM_KHR) failed (\(String(cString: parla_egl_last_error())))")
        }
        var major: EGLint = 0, minor: EGLint = 0
        guard eglInitialize(display, &major, &minor) == EGLBoolean(EGL_TRUE) else {
            let error = String(cString: parla_egl_last_error())
            gbm_device_destroy(device)
            throw DisplayError("\(card.path): eglInitialize on the GBM display failed (\(error))")
        }
        self.card = card
        self.device = device
        self.display = display
        backend = gbm_device_get_backend_name(device).map { String(cString: $0) } ?? "?"
        let vendor = eglQueryString(display, EGL_VENDOR).map { String(cString: $0) } ?? "?"
        eglDescription = "\(major).\(minor) \(vendor)"
    }

    deinit {
        eglMakeCurrent(display, nil, nil, nil)
        eglTerminate(display)
        gbm_device_destroy(device)
    }

    /// The EGL config for an XRGB8888 window surface rendered with OpenGL ES 3: among the configs with 8-bit
    /// RGB, no alpha, the one whose native visual is the GBM format (kmscube's `match_config_to_visual`).
    public func scanoutConfig() throws -> EGLConfig {
        let attributes: [EGLint] = [
            EGL_SURFACE_TYPE, EGL_WINDOW_BIT, EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 0,
            EGL_RENDERABLE_TYPE, EGL_OPENGL_ES3_BIT, EGL_NONE,
        ]
        var count: EGLint = 0
        guard eglChooseConfig(display, attributes, nil, 0, &count) == EGLBoolean(EGL_TRUE), count > 0 else {
            throw DisplayError("\(card.path): no EGL config for an OpenGL ES 3 window surface with 8-bit RGB (\(String(cString: parla_egl_last_error())))")
        }
        var configs = [EGLConfig?](repeating: nil, count: Int(count))
        guard eglChooseConfig(display, attributes, &configs, count, &count) == EGLBoolean(EGL_TRUE) else {
            throw DisplayError("\(card.path): eglChooseConfig failed (\(String(cString: parla_egl_last_error())))")
        }
        for case let config? in configs.prefix(Int(count)) {
            var visual: EGLint = 0
            if eglGetConfigAttrib(display, config, EGL_NATIVE_VISUAL_ID, &visual) == EGLBoolean(EGL_TRUE),
               UInt32(bitPattern: visual) == parla_drm_format_xrgb8888() {
                return config
            }
        }
        throw DisplayError("\(card.path): none of \(count) EGL configs has the XRGB8888 visual GBM scans out")
    }
}
