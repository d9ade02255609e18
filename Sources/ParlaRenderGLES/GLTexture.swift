import CEGL

/// Texture creation shared by the decoder's inputs and the screen painter's picture and overlay.
enum GLTexture {
    /// An immutable-storage 2D texture of `width × height` in `format` (e.g. `GL_RGBA8`, `GL_RGBA8UI`), sampled
    /// with `filter` and clamped at its edges; left bound to `GL_TEXTURE_2D`. (The decoder's shaders read with
    /// `texelFetch`, where neither filter nor wrap applies; integer formats need `GL_NEAREST`.)
    static func make(format: Int32, width: Int, height: Int, filter: GLint) -> GLuint {
        var name: GLuint = 0
        glGenTextures(1, &name)
        glBindTexture(GLenum(GL_TEXTURE_2D), name)
        glTexStorage2D(GLenum(GL_TEXTURE_2D), 1, GLenum(format), GLsizei(width), GLsizei(height))
        glTexParameteri(GLenum(GL_TEXTURE_2D), GLenum(GL_TEXTURE_MIN_FILTER), filter)
        glTexParameteri(GLenum(GL_TEXTURE_2D), GLenum(GL_TEXTURE_MAG_FILTER), filter)
        glTexParameteri(GLenum(GL_TEXTURE_2D), GLenum(GL_TEXTURE_WRAP_S), GL_CLAMP_TO_EDGE)
        glTexParameteri(GLenum(GL_TEXTURE_2D), GLenum(GL_TEXTURE_WRAP_T), GL_CLAMP_TO_EDGE)
        return name
    }
}
