import Foundation
import ParlaFace
import ParlaIO
import ParlaRender
import ParlaRenderGLES

extension LiveJob {
    /// The frame decoder (``LiveOptions/backend``: CPU, or GLES compute read back for the copy into the scan-out
    /// buffer) for the avatar file in ``LiveOptions/avatar``.
    public var avatarDecoder: LiveDecoderFactory {
        let url = options.avatar
        let backend = options.backend
        let threads = options.decoderThreads
        return { width, height in
            guard let url else { throw RuntimeError("no avatar given (--avatar FILE, made by `parla prepare`)") }
            return try backend.makeDecoder(avatar: AvatarFile.read(contentsOf: url), width: width, height: height,
                                           cpuThreads: threads)
        }
    }

    /// The GLES decoder of the GPU scan-out path for the avatar in ``LiveOptions/avatar``.
    public var avatarScanoutDecoder: LiveScanoutDecoderFactory {
        let url = options.avatar
        return { context, width, height in
            guard let url else { throw RuntimeError("no avatar given (--avatar FILE, made by `parla prepare`)") }
            return try GLESFrameDecoder(avatar: AvatarFile.read(contentsOf: url), width: width, height: height, context: context)
        }
    }

    /// Runs with the avatar in ``LiveOptions/avatar`` until SIGINT or SIGTERM (or `stop`); returns the summary.
    /// With `--backend gles` (or auto on a hardware GPU) the GLES decoder draws into a GBM scan-out surface when
    /// the card allows it (docs/live.md).
    public func run(stop: StopSignal? = nil) throws -> String {
        try run(stop: stop, makeDecoder: avatarDecoder, makeScanoutDecoder: avatarScanoutDecoder)
    }

    /// Writes the screen composed frame `frame` gives, with the avatar in ``LiveOptions/avatar``, as a PNG.
    public func writePreview(frame: Int, to url: URL) throws {
        try writePreview(frame: frame, to: url, makeDecoder: avatarDecoder)
    }
}
