import CEGL

/// The GPU scan-out path's last step: draws a ``GLESFrameDecoder``'s frame (its ``GLESFrameDecoder/frameBuffer``)
/// into the framebuffer bound for drawing (the default one of a GBM window surface in `parla live`), turned and
/// fitted as on the CPU path, over a background colour. Nothing is read back to the CPU.
///
/// Per picture: the frame buffer (RGBA words, row 0 first) becomes a texture through a pixel-unpack copy on the GPU,
/// the screen is cleared to the background, and one quad — the picture's rectangle on the screen, each corner
/// carrying the source point it shows — is drawn with `scanout.vert`/`scanout.frag`: one `GL_LINEAR` sample per
/// screen pixel centre, straight alpha blended over the background. The geometry (rotation, `contain`/`cover`)
/// comes from the caller as the four corners, so this layer needs no display types.
///
/// An overlay (the `--hud` box) can be set: an opaque image the CPU drew, already turned, drawn after the picture
/// one texel per screen pixel (`GL_NEAREST`, no blending), so its pixels are exactly the CPU's. It is uploaded when
/// set, not per picture.
///
/// Use it on the thread whose current context is the decoder's, drawing to the surface to be shown.
public final class GLESScreenPainter {
    /// One corner of the picture's rectangle: screen position in pixels (origin top-left, y down) and the point
    /// of the decoded picture it shows (0…1 across its width and height, row 0 at the top).
    public struct Corner: Sendable, Equatable {
        public var x: Double, y: Double, u: Double, v: Double
        public init(x: Double, y: Double, u: Double, v: Double) {
            self.x = x; self.y = y; self.u = u; self.v = v
        }
    }

    /// The size of the pictures it draws.
    public let sourceWidth: Int
    public let sourceHeight: Int
    /// The screen's size in pixels.
    public let screenWidth: Int
    public let screenHeight: Int
    private let program: GLuint
    private var texture: GLuint = 0
    private var vertexArray: GLuint = 0
    private var vertexBuffer: GLuint = 0
    private let background: (GLfloat, GLfloat, GLfloat)
    /// The overlay's texture (0 until one is set), its size, and its quad.
    private var overlayTexture: GLuint = 0
    private var overlaySize = (width: 0, height: 0)
    private var overlayVertexArray: GLuint = 0
    private var overlayVertexBuffer: GLuint = 0
    private var overlayShown = false

    /// Prepares the program, the picture texture and the quad.
    /// - Parameters:
    ///   - corners: the picture's rectangle on the screen in the order top-left, top-right, bottom-left,
    ///     bottom-right as the screen sees them (a triangle strip).
    ///   - background: red, green, blue, 0–255.
    public init(sourceWidth: Int, sourceHeight: Int, screenWidth: Int, screenHeight: Int, corners: [Corner],
                background: (UInt8, UInt8, UInt8), shaders: ShaderLibrary? = nil) throws {
        guard corners.count == 4 else { throw GLESError("the picture's rectangle needs 4 corners, got \(corners.count)") }
        guard screenWidth > 0, screenHeight > 0, sourceWidth > 0, sourceHeight > 0 else {
            throw GLESError("cannot draw a \(sourceWidth)x\(sourceHeight) picture onto a \(screenWidth)x\(screenHeight) screen")
        }
        self.sourceWidth = sourceWidth
        self.sourceHeight = sourceHeight
        self.screenWidth = screenWidth
        self.screenHeight = screenHeight
        self.background = (GLfloat(background.0) / 255, GLfloat(background.1) / 255, GLfloat(background.2) / 255)
        program = try (shaders ?? ShaderLibrary.locate()).compileProgram(vertex: "scanout.vert", fragment: "scanout.frag")

        texture = GLTexture.make(format: GL_RGBA8, width: sourceWidth, height: sourceHeight, filter: GL_LINEAR)

        (vertexArray, vertexBuffer) = Self.makeQuad(vertices(corners))
        try Self.check("preparing the scan-out quad")
    }

    deinit {
        glDeleteProgram(program)
        glDeleteTextures(1, &texture)
        glDeleteBuffers(1, &vertexBuffer)
        glDeleteVertexArrays(1, &vertexArray)
        if overlayTexture != 0 {
            glDeleteTextures(1, &overlayTexture)
            glDeleteBuffers(1, &overlayVertexBuffer)
            glDeleteVertexArrays(1, &overlayVertexArray)
        }
    }

    /// The quad's vertex data for `corners`: position in normalized device coordinates, then the source point.
    private func vertices(_ corners: [Corner]) -> [GLfloat] {
        // Screen pixels → normalized device coordinates; the screen's top row is y = +1 (a window surface's first
        // scan-out line; in an offscreen framebuffer it is the last row glReadPixels returns).
        var vertices = [GLfloat]()
        for c in corners {
            vertices += [GLfloat(2 * c.x / Double(screenWidth) - 1), GLfloat(1 - 2 * c.y / Double(screenHeight)),
                         GLfloat(c.u), GLfloat(c.v)]
        }
        return vertices
    }

    /// A vertex array and its buffer holding `vertices` (a triangle strip of 4 corners).
    private static func makeQuad(_ vertices: [GLfloat]) -> (GLuint, GLuint) {
        var vertexArray: GLuint = 0, vertexBuffer: GLuint = 0
        glGenVertexArrays(1, &vertexArray)
        glBindVertexArray(vertexArray)
        glGenBuffers(1, &vertexBuffer)
        glBindBuffer(GLenum(GL_ARRAY_BUFFER), vertexBuffer)
        glBufferData(GLenum(GL_ARRAY_BUFFER), vertices.count * MemoryLayout<GLfloat>.size, vertices, GLenum(GL_STATIC_DRAW))
        let stride = GLsizei(4 * MemoryLayout<GLfloat>.size)
        glEnableVertexAttribArray(0)
        glVertexAttribPointer(0, 2, GLenum(GL_FLOAT), GLboolean(GL_FALSE), stride, nil)
        glEnableVertexAttribArray(1)
        glVertexAttribPointer(1, 2, GLenum(GL_FLOAT), GLboolean(GL_FALSE), stride, UnsafeRawPointer(bitPattern: 2 * MemoryLayout<GLfloat>.size))
        glBindVertexArray(0)
        return (vertexArray, vertexBuffer)
    }

    /// Sets the overlay drawn over every following picture: `rgba` (R, G, B, A bytes, row 0 at the top, drawn
    /// opaque) of `width × height` pixels with its top-left corner at screen pixel (`x`, `y`). Call it when the
    /// overlay's pixels change, not per picture: it uploads them.
    public func setOverlay(rgba: [UInt8], x: Int, y: Int, width: Int, height: Int) throws {
        guard width > 0, height > 0, rgba.count == width * height * 4 else {
            throw GLESError("an overlay of \(width)x\(height) pixels needs \(max(0, width * height * 4)) bytes, got \(rgba.count)")
        }
        if overlaySize != (width, height) {
            if overlayTexture != 0 { glDeleteTextures(1, &overlayTexture) }
            overlayTexture = GLTexture.make(format: GL_RGBA8, width: width, height: height, filter: GL_NEAREST)
            overlaySize = (width, height)
        }
        glBindTexture(GLenum(GL_TEXTURE_2D), overlayTexture)
        glPixelStorei(GLenum(GL_UNPACK_ALIGNMENT), 4)
        glTexSubImage2D(GLenum(GL_TEXTURE_2D), 0, 0, 0, GLsizei(width), GLsizei(height),
                        GLenum(GL_RGBA), GLenum(GL_UNSIGNED_BYTE), rgba)
        // Corners on pixel edges: each screen pixel's centre samples the middle of one texel.
        let (left, top) = (Double(x), Double(y)), (right, bottom) = (Double(x + width), Double(y + height))
        let corners = [Corner(x: left, y: top, u: 0, v: 0), Corner(x: right, y: top, u: 1, v: 0),
                       Corner(x: left, y: bottom, u: 0, v: 1), Corner(x: right, y: bottom, u: 1, v: 1)]
        let quad = vertices(corners)
        if overlayVertexArray == 0 {
            (overlayVertexArray, overlayVertexBuffer) = Self.makeQuad(quad)
        } else {
            glBindBuffer(GLenum(GL_ARRAY_BUFFER), overlayVertexBuffer)
            glBufferSubData(GLenum(GL_ARRAY_BUFFER), 0, quad.count * MemoryLayout<GLfloat>.size, quad)
            glBindBuffer(GLenum(GL_ARRAY_BUFFER), 0)
        }
        overlayShown = true
        try Self.check("uploading the overlay")
    }

    /// Draws no overlay from the next picture on (the texture is kept for the next ``setOverlay(rgba:x:y:width:height:)``).
    public func hideOverlay() {
        overlayShown = false
    }

    /// Fills the screen with the background (the picture before the first frame).
    public func clear() throws {
        glViewport(0, 0, GLsizei(screenWidth), GLsizei(screenHeight))
        glClearColor(background.0, background.1, background.2, 1)
        glClear(GLbitfield(GL_COLOR_BUFFER_BIT))
        try Self.check("clearing the screen")
    }

    /// Draws the picture in `frameBuffer` (a buffer of `sourceWidth × sourceHeight` RGBA words, e.g. a
    /// ``GLESFrameDecoder``'s after ``GLESFrameDecoder/render(_:)``) onto the screen.
    public func draw(frameBuffer: GLuint) throws {
        glMemoryBarrier(GLbitfield(GL_PIXEL_BUFFER_BARRIER_BIT | GL_TEXTURE_UPDATE_BARRIER_BIT))
        glBindBuffer(GLenum(GL_PIXEL_UNPACK_BUFFER), frameBuffer)
        glBindTexture(GLenum(GL_TEXTURE_2D), texture)
        glPixelStorei(GLenum(GL_UNPACK_ALIGNMENT), 4)
        glTexSubImage2D(GLenum(GL_TEXTURE_2D), 0, 0, 0, GLsizei(sourceWidth), GLsizei(sourceHeight),
                        GLenum(GL_RGBA), GLenum(GL_UNSIGNED_BYTE), nil)
        glBindBuffer(GLenum(GL_PIXEL_UNPACK_BUFFER), 0)
        try clear()
        glUseProgram(program)
        glActiveTexture(GLenum(GL_TEXTURE0))
        glUniform1i(glGetUniformLocation(program, "picture"), 0)
        glEnable(GLenum(GL_BLEND))
        glBlendFunc(GLenum(GL_SRC_ALPHA), GLenum(GL_ONE_MINUS_SRC_ALPHA))
        glBindVertexArray(vertexArray)
        glDrawArrays(GLenum(GL_TRIANGLE_STRIP), 0, 4)
        glDisable(GLenum(GL_BLEND))
        if overlayShown {
            glBindTexture(GLenum(GL_TEXTURE_2D), overlayTexture)
            glBindVertexArray(overlayVertexArray)
            glDrawArrays(GLenum(GL_TRIANGLE_STRIP), 0, 4)
        }
        glBindVertexArray(0)
        try Self.check("drawing the picture onto the screen")
    }

    /// Waits until all GL work queued so far is done (`glFinish`).
    public func finish() {
        glFinish()
    }

    private static func check(_ what: String) throws {
        let error = glGetError()
        guard error == GLenum(GL_NO_ERROR) else {
            throw GLESError("OpenGL ES error 0x\(String(error, radix: 16)) while \(what)")
        }
    }
}
