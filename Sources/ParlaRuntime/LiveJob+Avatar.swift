import Foundation
import ParlaFace
import ParlaIO
import ParlaRender

extension LiveJob {
    /// The frame decoder (``LiveOptions/backend``: CPU, or GLES compute read back for the copy into the scan-out
    /// buffer) for the avatar file in ``LiveOptions/avatar``.
    public var avatarDecoder: LiveDecoderFactory {
        let url = options.avatar
        let backend = options.backend
        return { width, height in
            guard let url else { throw RuntimeError("no avatar given (--avatar FILE, made by `parla prepare`)") }
            return try backend.makeDecoder(avatar: AvatarFile.read(contentsOf: url), width: width, height: height)
        }
    }

    /// Runs with the avatar in ``LiveOptions/avatar`` until SIGINT or SIGTERM (or `stop`); returns the summary.
    public func run(stop: StopSignal? = nil) throws -> String {
        try run(stop: stop, makeDecoder: avatarDecoder)
    }

    /// Writes the screen composed frame `frame` gives, with the avatar in ``LiveOptions/avatar``, as a PNG.
    public func writePreview(frame: Int, to url: URL) throws {
        try writePreview(frame: frame, to: url, makeDecoder: avatarDecoder)
    }
}
