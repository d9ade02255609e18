import CEGL

/// An EGL display plus an OpenGL ES 3.1 context with compute shaders, made current on the creating thread.
///
/// * Headless (tests, offline render, benchmarks): `try GLESContext()` opens Mesa's surfaceless platform
///   (`EGL_PLATFORM_SURFACELESS_MESA`), falling back to the first EGL device (`EGL_PLATFORM_DEVICE_EXT`).
/// * Scan-out (GBM): open the display yourself — `eglGetPlatformDisplay(EGL_PLATFORM_GBM_KHR, gbmDevice, nil)`
///   — and pass it with the config of your window surface: `try GLESContext(display: dpy, config: cfg)`; then
///   `makeCurrent(surface:)` with the EGL window surface of the GBM surface. The context does not terminate a
///   display it did not open.
///
/// GL contexts belong to one thread: create the context, the decoders that use it, and call them on the
/// same thread.
public final class GLESContext {
    public let display: EGLDisplay
    public let context: EGLContext
    /// `GL_RENDERER`, e.g. "llvmpipe (LLVM 15, 256 bits)".
    public let renderer: String
    /// `GL_VERSION`, e.g. "OpenGL ES 3.2 Mesa 22.3.6".
    public let version: String
    private let ownsDisplay: Bool

    /// Whether the renderer is a CPU rasterizer (Mesa llvmpipe, softpipe, swrast) rather than a GPU.
    public var isSoftwareRenderer: Bool {
        let name = renderer.lowercased()
        return ["llvmpipe", "softpipe", "swrast"].contains { name.contains($0) }
    }

    /// Opens a headless display (surfaceless Mesa, else the first EGL device) and creates the context.
    public convenience init() throws {
        let display = try Self.headlessDisplay()
        var major: EGLint = 0, minor: EGLint = 0
        guard eglInitialize(display, &major, &minor) == EGLBoolean(EGL_TRUE) else {
            throw GLESError("eglInitialize failed (\(String(cString: parla_egl_last_error())))")
        }
        try self.init(display: display, config: nil, ownsDisplay: true)
    }

    /// Creates a GLES 3.1 context on an initialized `display` (e.g. a GBM platform display). `config` is the
    /// config of the surfaces it will draw to; nil needs `EGL_KHR_no_config_context` (Mesa has it).
    public convenience init(display: EGLDisplay, config: EGLConfig?) throws {
        try self.init(display: display, config: config, ownsDisplay: false)
    }

    private init(display: EGLDisplay, config: EGLConfig?, ownsDisplay: Bool) throws {
        self.display = display
        self.ownsDisplay = ownsDisplay
        guard eglBindAPI(EGLenum(EGL_OPENGL_ES_API)) == EGLBoolean(EGL_TRUE) else {
            if ownsDisplay { eglTerminate(display) }
            throw GLESError("eglBindAPI(EGL_OPENGL_ES_API) failed (\(String(cString: parla_egl_last_error())))")
        }
        let attributes: [EGLint] = [EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 1, EGL_NONE]
        guard let context = eglCreateContext(display, config, nil, attributes) else {
            let error = String(cString: parla_egl_last_error())
            if ownsDisplay { eglTerminate(display) }
            throw GLESError("eglCreateContext (OpenGL ES 3.1) failed (\(error))")
        }
        self.context = context
        guard eglMakeCurrent(display, nil, nil, context) == EGLBoolean(EGL_TRUE) else {
            let error = String(cString: parla_egl_last_error())
            eglDestroyContext(display, context)
            if ownsDisplay { eglTerminate(display) }
            throw GLESError("eglMakeCurrent (surfaceless) failed (\(error))")
        }
        func string(_ name: Int32) -> String {
            glGetString(GLenum(name)).map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) } ?? "?"
        }
        renderer = string(GL_RENDERER)
        version = string(GL_VERSION)
        var major: GLint = 0, minor: GLint = 0
        glGetIntegerv(GLenum(GL_MAJOR_VERSION), &major)
        glGetIntegerv(GLenum(GL_MINOR_VERSION), &minor)
        guard major > 3 || (major == 3 && minor >= 1) else {
            eglMakeCurrent(display, nil, nil, nil)
            eglDestroyContext(display, context)
            if ownsDisplay { eglTerminate(display) }
            throw GLESError("\(version) has no compute shaders (needs OpenGL ES 3.1)")
        }
    }

    deinit {
        eglMakeCurrent(display, nil, nil, nil)
        eglDestroyContext(display, context)
        if ownsDisplay { eglTerminate(display) }
    }

    /// Makes the context current on this thread, drawing to `surface` (nil: surfaceless).
    public func makeCurrent(surface: EGLSurface? = nil) throws {
        guard eglMakeCurrent(display, surface, surface, context) == EGLBoolean(EGL_TRUE) else {
            throw GLESError("eglMakeCurrent failed (\(String(cString: parla_egl_last_error())))")
        }
    }

    private static func headlessDisplay() throws -> EGLDisplay {
        if let display = eglGetPlatformDisplay(EGLenum(EGL_PLATFORM_SURFACELESS_MESA), nil, nil) {
            return display
        }
        typealias QueryDevices = @convention(c) (EGLint, UnsafeMutablePointer<EGLDeviceEXT?>?, UnsafeMutablePointer<EGLint>?) -> EGLBoolean
        if let symbol = eglGetProcAddress("eglQueryDevicesEXT") {
            let query = unsafeBitCast(symbol, to: QueryDevices.self)
            var device: EGLDeviceEXT? = nil
            var count: EGLint = 0
            if query(1, &device, &count) == EGLBoolean(EGL_TRUE), count > 0, let device,
               let display = eglGetPlatformDisplay(EGLenum(EGL_PLATFORM_DEVICE_EXT), device, nil) {
                return display
            }
        }
        throw GLESError("no EGL display: neither the surfaceless Mesa platform nor an EGL device is available (install libegl-mesa0)")
    }
}
