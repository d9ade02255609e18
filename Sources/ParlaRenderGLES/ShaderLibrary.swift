import CEGL
import Foundation

/// Finds, preprocesses and compiles the GLSL ES 3.10 shaders in `Shaders/` (the decoder's compute shaders, the
/// scan-out quad's vertex and fragment shaders).
///
/// Where the shaders are found (first folder holding `common.glsl` wins):
/// 1. `$PARLA_SHADERS`;
/// 2. next to the executable: `<bin>/../share/parla/shaders` (an installed `parla`), then `<bin>/shaders`;
/// 3. the source tree this file was compiled from (`#filePath` → `<package>/Shaders`), which covers a clean
///    clone's `swift run` / `swift test` and the binaries in `.build*/`.
/// SwiftPM cannot bundle a top-level folder outside the target as a resource, hence the search.
///
/// Each shader file is compiled once; `#include "name.glsl"` lines are replaced by that file (followed by a
/// `#line` directive so the compiler's line numbers still point into the including file). A failed compile
/// or link throws a ``GLESError`` naming the file and carrying the driver's info log.
public struct ShaderLibrary: Sendable {
    /// The folder the shaders are read from.
    public let directory: URL

    /// Uses `directory` as the shader folder.
    public init(directory: URL) { self.directory = directory }

    /// Searches the standard places (see the type's documentation).
    public static func locate() throws -> ShaderLibrary {
        var candidates: [URL] = []
        if let env = ProcessInfo.processInfo.environment["PARLA_SHADERS"], !env.isEmpty {
            candidates.append(URL(fileURLWithPath: env))
        }
        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments.first ?? "")
        let bin = executable.resolvingSymlinksInPath().deletingLastPathComponent()
        candidates.append(bin.appendingPathComponent("../share/parla/shaders").standardized)
        candidates.append(bin.appendingPathComponent("shaders"))
        candidates.append(
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Shaders").standardized)
        for folder in candidates where FileManager.default.fileExists(atPath: folder.appendingPathComponent("common.glsl").path) {
            return ShaderLibrary(directory: folder)
        }
        throw GLESError("shaders not found: looked in \(candidates.map(\.path).joined(separator: ", ")) (set PARLA_SHADERS to the Shaders folder)")
    }

    /// The source of `name` with its includes expanded and `#version 310 es` first.
    public func source(_ name: String, defines: [String] = []) throws -> String {
        var out = "#version 310 es\n"
        for define in defines { out += "#define \(define)\n" }
        out += "#line 1 0\n"
        for (n, line) in try read(name).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("#include") {
                let parts = trimmed.split(separator: "\"")
                guard parts.count >= 2 else { throw GLESError("\(name):\(n + 1): malformed #include") }
                out += "#line 1 1\n" + (try read(String(parts[1]))) + "\n#line \(n + 2) 0\n"
            } else {
                out += line + "\n"
            }
        }
        return out
    }

    /// Compiles and links the compute shader `name` into a program. Throws with the file name and the info log.
    public func compileCompute(_ name: String, defines: [String] = []) throws -> GLuint {
        let shader = try compile(name, stage: GL_COMPUTE_SHADER, defines: defines)
        defer { glDeleteShader(shader) }
        return try link([shader], name: name)
    }

    /// Compiles the vertex shader `vertex` and the fragment shader `fragment` and links them into a program.
    public func compileProgram(vertex: String, fragment: String) throws -> GLuint {
        let v = try compile(vertex, stage: GL_VERTEX_SHADER, defines: [])
        defer { glDeleteShader(v) }
        let f = try compile(fragment, stage: GL_FRAGMENT_SHADER, defines: [])
        defer { glDeleteShader(f) }
        return try link([v, f], name: "\(vertex) + \(fragment)")
    }

    private func compile(_ name: String, stage: Int32, defines: [String]) throws -> GLuint {
        let text = try source(name, defines: defines)
        let shader = glCreateShader(GLenum(stage))
        guard shader != 0 else { throw GLESError("\(path(name)): glCreateShader(0x\(String(stage, radix: 16))) failed") }
        text.withCString { chars in
            var pointer: UnsafePointer<GLchar>? = chars
            glShaderSource(shader, 1, &pointer, nil)
        }
        glCompileShader(shader)
        var ok: GLint = 0
        glGetShaderiv(shader, GLenum(GL_COMPILE_STATUS), &ok)
        guard ok == GL_TRUE else {
            let message = log { glGetShaderInfoLog(shader, $0, nil, $1) }
            glDeleteShader(shader)
            throw GLESError("\(path(name)): compile failed: \(message)")
        }
        return shader
    }

    private func link(_ shaders: [GLuint], name: String) throws -> GLuint {
        let program = glCreateProgram()
        for shader in shaders { glAttachShader(program, shader) }
        glLinkProgram(program)
        var ok: GLint = 0
        glGetProgramiv(program, GLenum(GL_LINK_STATUS), &ok)
        guard ok == GL_TRUE else {
            let message = log { glGetProgramInfoLog(program, $0, nil, $1) }
            glDeleteProgram(program)
            throw GLESError("\(path(name)): link failed: \(message)")
        }
        return program
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func read(_ name: String) throws -> String {
        do {
            return try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        } catch {
            throw GLESError("\(path(name)): cannot read the shader (\(error.localizedDescription))")
        }
    }

    private func log(_ fetch: (GLsizei, UnsafeMutablePointer<GLchar>) -> Void) -> String {
        var buffer = [GLchar](repeating: 0, count: 8192)
        buffer.withUnsafeMutableBufferPointer { fetch(GLsizei($0.count), $0.baseAddress!) }
        return String(cString: buffer).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
