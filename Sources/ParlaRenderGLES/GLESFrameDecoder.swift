import CEGL
import Dispatch
import ParlaFace
import ParlaMedia
import ParlaMotion
import ParlaRender

/// The frame decoder on OpenGL ES 3.1 compute shaders (`Shaders/`), matched by ``CPUFrameDecoder``.
///
/// Per frame the CPU runs the shared ``FrameGeometry`` (deform, pose, snap, per-triangle fixed-point planes —
/// about 1 200 triangles, the same numbers the CPU reference uses) and uploads one record per triangle; the GPU
/// does all per-pixel work in four passes (docs/frame-decoder.md, "GLES backend"):
/// 1. `raster.comp` depth pass — exact top-left-rule coverage, minimum depth per pixel (buffer atomics);
/// 2. `raster.comp` owner pass — among fragments at that depth, the first drawn triangle wins;
///    (1 and 2 run as one packed pass — the minimum of depth and draw index in one 32-bit key — whenever the
///    frame's depth range fits beside the index: ``mergesRasterPasses``);
/// 3. `shade.comp` — one bilinear portrait sample per pixel through the winning triangle, the background
///    composite (flagged triangles), the mouth interior,
///    the identity mapping where nothing covers a pixel; resets the depth/owner buffers;
/// 4. `convert.comp` (on ``read(_:into:)``) — rotation, scaling, RGBA / XRGB8888 / NV12 into a buffer;
///    ``decode(_:into:)`` copies the RGBA frame out directly.
///
/// All GL objects and host buffers are created in `init`; a frame allocates nothing (a conversion buffer is
/// re-created only when a read asks for a larger output than before). Use it on the thread that created
/// its ``GLESContext``.
public final class GLESFrameDecoder: FrameDecoder {
    public let width: Int
    public let height: Int
    /// The context the decoder draws with.
    public let context: GLESContext
    /// The decoded frame after ``render(_:)``: a shader storage buffer of `width × height` words, RGBA bytes
    /// packed little-endian, row after row (for a scan-out path that converts it itself).
    public private(set) var frameBuffer: GLuint = 0
    /// When true, every pass ends with `glFinish` and its wall time is added to ``passSeconds`` (benchmarks).
    public var timesPasses = false
    /// Seconds spent per pass since the last reset (only while ``timesPasses``).
    public var passSeconds: [Pass: Double] = [:]

    /// When true (the default), depth and owner are found in one raster pass whenever the frame's depths fit in
    /// a 32-bit key beside the draw index (`(depth − min) << bits | index`, the smallest key wins: the same
    /// winner as the two passes); otherwise, and when false, in two passes.
    public var mergesRasterPasses = true

    /// The timed parts of a frame (`raster` is the packed pass; `raster-depth` + `raster-owner` the two passes).
    public enum Pass: String, CaseIterable, Sendable {
        case geometry, raster, rasterDepth = "raster-depth", rasterOwner = "raster-owner", shade, readBack = "read-back"
    }

    private let geometry: FrameGeometry
    private let records: UnsafeMutablePointer<GPUTriangle>
    private let recordCapacity: Int
    /// Per box row of every triangle this frame: the triangle's index (raster.comp's row list).
    private let rows: UnsafeMutablePointer<Int32>
    private let rowCapacity: Int
    private var portrait: GLuint = 0, plate: GLuint = 0, depthBuffer: GLuint = 0, ownerBuffer: GLuint = 0
    private var triangleBuffer: GLuint = 0, rowBuffer: GLuint = 0, outputBuffer: GLuint = 0
    private var outputCapacity = 0
    private let rasterProgram: GLuint, shadeProgram: GLuint, convertProgram: GLuint
    private let drawsMouthInterior: Bool
    /// The draw-index bits of this frame's owner keys (shade.comp).
    private var ownerMask = UInt32.max

    /// Prepares the GL objects for `width × height` output. `context`: an existing context (nil: a new
    /// headless one); `shaders`: the shader folder (nil: ``ShaderLibrary/locate()``). Throws a one-line error
    /// for an invalid avatar or size (as ``CPUFrameDecoder``), no EGL/GLES 3.1, or a shader that fails to compile.
    public convenience init(
        avatar: Avatar, width: Int, height: Int, context: GLESContext? = nil, shaders: ShaderLibrary? = nil
    ) throws {
        try self.init(avatar: avatar, width: width, height: height, context: context, shaders: shaders, drawsMouthInterior: true)
    }

    init(
        avatar: Avatar, width: Int, height: Int, context: GLESContext?, shaders: ShaderLibrary?, drawsMouthInterior: Bool
    ) throws {
        geometry = try FrameGeometry(avatar: avatar, width: width, height: height)
        self.width = width
        self.height = height
        self.drawsMouthInterior = drawsMouthInterior
        self.context = try context ?? GLESContext()
        let library = try shaders ?? ShaderLibrary.locate()
        rasterProgram = try library.compileCompute("raster.comp")
        shadeProgram = try library.compileCompute("shade.comp")
        convertProgram = try library.compileCompute("convert.comp")

        recordCapacity = geometry.faceTriangleCount + FrameGeometry.mouthTriangleCount
        records = .allocate(capacity: recordCapacity)
        rowCapacity = recordCapacity * height
        rows = .allocate(capacity: rowCapacity)

        portrait = GLTexture.make(format: GL_RGBA8UI, width: avatar.texture.width, height: avatar.texture.height,
                                  filter: GL_NEAREST)
        avatar.texture.pixels.withUnsafeBytes { raw in
            glPixelStorei(GLenum(GL_UNPACK_ALIGNMENT), 1)
            glTexSubImage2D(GLenum(GL_TEXTURE_2D), 0, 0, 0, GLsizei(avatar.texture.width), GLsizei(avatar.texture.height),
                            GLenum(GL_RGBA_INTEGER), GLenum(GL_UNSIGNED_BYTE), raw.baseAddress)
        }
        // The background plate (RGB + person mask); a 1×1 stand-in when the avatar has none (never sampled: no
        // triangle is flagged then).
        let plateImage = avatar.background ?? RGBAImage(width: 1, height: 1, fill: (0, 0, 0, 255))
        plate = GLTexture.make(format: GL_RGBA8UI, width: plateImage.width, height: plateImage.height, filter: GL_NEAREST)
        plateImage.pixels.withUnsafeBytes { raw in
            glTexSubImage2D(GLenum(GL_TEXTURE_2D), 0, 0, 0, GLsizei(plateImage.width), GLsizei(plateImage.height),
                            GLenum(GL_RGBA_INTEGER), GLenum(GL_UNSIGNED_BYTE), raw.baseAddress)
        }
        // Depth and owner per pixel start "empty" (INT_MAX, ~0); shade.comp resets them after every frame.
        var initial = [Int32](repeating: Int32.max, count: width * height)
        depthBuffer = Self.makeBuffer(bytes: width * height * 4, contents: &initial)
        for i in initial.indices { initial[i] = -1 }
        ownerBuffer = Self.makeBuffer(bytes: width * height * 4, contents: &initial)
        frameBuffer = Self.makeBuffer(bytes: width * height * 4)
        triangleBuffer = Self.makeBuffer(bytes: recordCapacity * MemoryLayout<GPUTriangle>.stride)
        rowBuffer = Self.makeBuffer(bytes: rowCapacity * 4)
        try Self.check("creating textures and buffers")
    }

    deinit {
        try? context.makeCurrent()
        glDeleteProgram(rasterProgram); glDeleteProgram(shadeProgram); glDeleteProgram(convertProgram)
        glDeleteTextures(1, &portrait); glDeleteTextures(1, &plate)
        var buffers = [triangleBuffer, rowBuffer, outputBuffer, depthBuffer, ownerBuffer, frameBuffer]
        glDeleteBuffers(GLsizei(buffers.count), &buffers)
        records.deallocate(); rows.deallocate()
    }

    /// Draws `frame` and reads it back as RGBA into `output` (`width × height`).
    public func decode(_ frame: MotionFrame, into output: inout RGBAImage) throws {
        guard output.width == width, output.height == height, output.pixels.count == width * height * 4 else {
            throw FrameDecoderError(
                subject: "output",
                problem: "image is \(output.width)x\(output.height) but the decoder draws \(width)x\(height)")
        }
        try render(frame)
        var t0 = timesPasses ? Self.now() : 0
        try output.pixels.withUnsafeMutableBytes { try copy(frameBuffer, bytes: width * height * 4, into: $0) }
        mark(.readBack, &t0)
    }

    /// Passes 1–3: draws `frame` into ``frameBuffer`` (GPU only; nothing is read back).
    public func render(_ frame: MotionFrame) throws {
        var t0 = timesPasses ? Self.now() : 0
        try geometry.update(frame)
        let count = geometry.encode(into: records)
        var rowCount = 0
        for t in 0..<count {
            records[t].firstRow = Int32(rowCount)
            for _ in 0...Int(records[t].maxY - records[t].minY) {
                rows[rowCount] = Int32(t)
                rowCount += 1
            }
        }
        glBindBuffer(GLenum(GL_SHADER_STORAGE_BUFFER), triangleBuffer)
        glBufferSubData(GLenum(GL_SHADER_STORAGE_BUFFER), 0, count * MemoryLayout<GPUTriangle>.stride, records)
        glBindBuffer(GLenum(GL_SHADER_STORAGE_BUFFER), rowBuffer)
        glBufferSubData(GLenum(GL_SHADER_STORAGE_BUFFER), 0, rowCount * 4, rows)
        glBindBufferBase(GLenum(GL_SHADER_STORAGE_BUFFER), 0, triangleBuffer)
        glBindBufferBase(GLenum(GL_SHADER_STORAGE_BUFFER), 1, rowBuffer)
        glBindBufferBase(GLenum(GL_SHADER_STORAGE_BUFFER), 3, depthBuffer)
        glBindBufferBase(GLenum(GL_SHADER_STORAGE_BUFFER), 4, ownerBuffer)
        mark(.geometry, &t0)

        if rowCount > 0 {
            glUseProgram(rasterProgram)
            glUniform1i(glGetUniformLocation(rasterProgram, "rowCount"), GLint(rowCount))
            glUniform1i(glGetUniformLocation(rasterProgram, "outputWidth"), GLint(width))
            let groups = (rowCount + 63) / 64
            let gx = min(groups, 65535), gy = (groups + gx - 1) / gx
            if let key = packedKey(count: count) {
                ownerMask = (UInt32(1) << UInt32(key.indexBits)) - 1
                glUniform1i(glGetUniformLocation(rasterProgram, "passKind"), 2)
                glUniform1i(glGetUniformLocation(rasterProgram, "depthBase"), key.depthBase)
                glUniform1i(glGetUniformLocation(rasterProgram, "indexBits"), key.indexBits)
                glDispatchCompute(GLuint(gx), GLuint(gy), 1)
                glMemoryBarrier(GLbitfield(GL_SHADER_STORAGE_BARRIER_BIT))
                mark(.raster, &t0)
            } else {
                ownerMask = UInt32.max
                for kind in 0..<2 {
                    glUniform1i(glGetUniformLocation(rasterProgram, "passKind"), GLint(kind))
                    glDispatchCompute(GLuint(gx), GLuint(gy), 1)
                    glMemoryBarrier(GLbitfield(GL_SHADER_STORAGE_BARRIER_BIT))
                    mark(kind == 0 ? .rasterDepth : .rasterOwner, &t0)
                }
            }
        }

        glUseProgram(shadeProgram)
        glBindBufferBase(GLenum(GL_SHADER_STORAGE_BUFFER), 2, frameBuffer)
        glActiveTexture(GLenum(GL_TEXTURE0))
        glBindTexture(GLenum(GL_TEXTURE_2D), portrait)
        glUniform1i(glGetUniformLocation(shadeProgram, "portrait"), 0)
        glActiveTexture(GLenum(GL_TEXTURE1))
        glBindTexture(GLenum(GL_TEXTURE_2D), plate)
        glUniform1i(glGetUniformLocation(shadeProgram, "plate"), 1)
        glActiveTexture(GLenum(GL_TEXTURE0))
        glUniform2i(glGetUniformLocation(shadeProgram, "outputSize"), GLint(width), GLint(height))
        let id = geometry.identityPlane
        glUniform3i(glGetUniformLocation(shadeProgram, "identity"), id.originU, id.originV, id.step)
        glUniform1f(glGetUniformLocation(shadeProgram, "mouthWidth"), geometry.mouthWidth)
        glUniform1i(glGetUniformLocation(shadeProgram, "drawsInterior"), drawsMouthInterior ? 1 : 0)
        glUniform1ui(glGetUniformLocation(shadeProgram, "ownerMask"), ownerMask)
        glDispatchCompute(GLuint((width + 15) / 16), GLuint((height + 15) / 16), 1)
        glMemoryBarrier(GLbitfield(GL_SHADER_STORAGE_BARRIER_BIT | GL_BUFFER_UPDATE_BARRIER_BIT))
        mark(.shade, &t0)
        try Self.check("drawing a frame")
    }

    /// Pass 4: converts the last rendered frame with `converter` (whose source must be `width × height`) and
    /// copies the result into `out` (at least `converter.byteCount` bytes).
    public func read(_ converter: FrameConverter, into out: UnsafeMutableRawBufferPointer) throws {
        guard converter.sourceWidth == width, converter.sourceHeight == height else {
            throw FrameDecoderError(subject: "output", problem: "conversion expects a \(converter.sourceWidth)x\(converter.sourceHeight) frame, the decoder draws \(width)x\(height)")
        }
        let bytes = converter.byteCount
        guard out.count >= bytes else {
            throw FrameDecoderError(subject: "output", problem: "conversion needs \(bytes) bytes, the buffer holds \(out.count)")
        }
        var t0 = timesPasses ? Self.now() : 0
        let words = (bytes + 3) / 4
        if words * 4 > outputCapacity {
            if outputBuffer != 0 { glDeleteBuffers(1, &outputBuffer) }
            outputBuffer = Self.makeBuffer(bytes: words * 4)
            outputCapacity = words * 4
        }
        glUseProgram(convertProgram)
        glBindBufferBase(GLenum(GL_SHADER_STORAGE_BUFFER), 2, frameBuffer)
        glBindBufferBase(GLenum(GL_SHADER_STORAGE_BUFFER), 3, outputBuffer)
        glUniform2i(glGetUniformLocation(convertProgram, "sourceSize"), GLint(width), GLint(height))
        glUniform2i(glGetUniformLocation(convertProgram, "targetSize"), GLint(converter.width), GLint(converter.height))
        glUniform1i(glGetUniformLocation(convertProgram, "rotation"), GLint(converter.rotation.quarterTurns))
        glUniform4i(glGetUniformLocation(convertProgram, "sampling"), converter.originU, converter.originV, converter.stepU, converter.stepV)
        let format: GLint = converter.format == .rgba ? 0 : converter.format == .xrgb8888 ? 1 : 2
        glUniform1i(glGetUniformLocation(convertProgram, "format"), format)
        glUniform1i(glGetUniformLocation(convertProgram, "wordCount"), GLint(words))
        let groups = (words + 255) / 256
        let gx = min(groups, 65535), gy = (groups + gx - 1) / gx
        glDispatchCompute(GLuint(gx), GLuint(gy), 1)
        glMemoryBarrier(GLbitfield(GL_BUFFER_UPDATE_BARRIER_BIT))
        try copy(outputBuffer, bytes: bytes, into: out)
        mark(.readBack, &t0)
        try Self.check("converting a frame")
    }

    // MARK: - Internal

    /// The packed raster pass's key layout for the `count` records of this frame, or nil when it cannot be used:
    /// `indexBits` hold draw indices 0..<count, and every depth a record's plane takes at a covered pixel lies
    /// in Int32 — where the shader's wrapping arithmetic is exact — and within
    /// `depthBase … depthBase + 2^(32 − indexBits) − 2`. Covered pixel centres lie inside the triangle and the
    /// plane is affine, so its values there lie between its values at the three vertices (evaluated at the
    /// vertices' exact positions, rounded outward by one unit).
    private func packedKey(count: Int) -> (depthBase: Int32, indexBits: Int32)? {
        guard mergesRasterPasses, count > 0 else { return nil }
        let indexBits = max(1, Int.bitWidth - (count - 1).leadingZeroBitCount)
        guard indexBits < 31 else { return nil }
        var lo = Double.infinity, hi = -Double.infinity
        for t in 0..<count {
            let r = records[t]
            let o = Double(r.zOrigin), sx = Double(r.zStepX), sy = Double(r.zStepY)
            // Pixel (x, y) has its centre at (x + ½, y + ½) output pixels; a vertex at p/256 output pixels sits at
            // pixel coordinate p/256 − ½.
            for (px, py) in [(r.p0x, r.p0y), (r.p1x, r.p1y), (r.p2x, r.p2y)] {
                let dx = Double(px) / 256 - 0.5 - Double(r.minX), dy = Double(py) / 256 - 0.5 - Double(r.minY)
                let z = o + sx * dx + sy * dy
                lo = min(lo, z)
                hi = max(hi, z)
            }
        }
        guard lo.isFinite, hi.isFinite else { return nil }
        lo = lo.rounded(.down) - 1
        hi = hi.rounded(.up) + 1
        guard lo >= Double(Int32.min), hi <= Double(Int32.max), hi - lo <= Double((Int64(1) << (32 - indexBits)) - 2) else {
            return nil
        }
        return (Int32(lo), Int32(indexBits))
    }

    /// Maps the first `bytes` of `buffer` and copies them into `out`.
    private func copy(_ buffer: GLuint, bytes: Int, into out: UnsafeMutableRawBufferPointer) throws {
        glBindBuffer(GLenum(GL_SHADER_STORAGE_BUFFER), buffer)
        guard let mapped = glMapBufferRange(GLenum(GL_SHADER_STORAGE_BUFFER), 0, bytes, GLbitfield(GL_MAP_READ_BIT)) else {
            try Self.check("mapping a buffer for reading")
            throw GLESError("glMapBufferRange returned no memory for \(bytes) bytes")
        }
        out.baseAddress!.copyMemory(from: mapped, byteCount: bytes)
        glUnmapBuffer(GLenum(GL_SHADER_STORAGE_BUFFER))
    }

    private func mark(_ pass: Pass, _ t0: inout UInt64) {
        guard timesPasses else { return }
        glFinish()
        let t1 = Self.now()
        passSeconds[pass, default: 0] += Double(t1 - t0) / 1e9
        t0 = t1
    }

    private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    private static func makeBuffer(bytes: Int, contents: UnsafeRawPointer? = nil) -> GLuint {
        var buffer: GLuint = 0
        glGenBuffers(1, &buffer)
        glBindBuffer(GLenum(GL_SHADER_STORAGE_BUFFER), buffer)
        glBufferData(GLenum(GL_SHADER_STORAGE_BUFFER), max(bytes, 4), contents, GLenum(GL_DYNAMIC_DRAW))
        return buffer
    }

    private static func check(_ what: String) throws {
        let error = glGetError()
        guard error == GLenum(GL_NO_ERROR) else {
            throw GLESError("OpenGL ES error 0x\(String(error, radix: 16)) while \(what)")
        }
    }
}
