import ArgumentParser
import ParlaRuntime

/// The raw PCM stream options `parla live` and `parla serve` share: where the stream comes from and its format.
struct PCMStreamOptions: ParsableArguments {
    @Option(name: .customLong("pcm-stdin"), help: ArgumentHelp("Raw PCM on stdin drives the face: FORMAT:RATE:CHANNELS, e.g. s16le:22050:1.", valueName: "format"))
    var stdin: String?
    @Option(name: .customLong("pcm-socket"), help: ArgumentHelp("Listen for raw PCM on this UNIX socket, one producer at a time (format from --pcm-format).", valueName: "path"))
    var socket: String?
    @Option(name: .customLong("pcm-fifo"), help: ArgumentHelp("Read raw PCM from this FIFO, created if missing; producers may come and go (format from --pcm-format).", valueName: "path"))
    var fifo: String?
    @Option(name: .customLong("pcm-format"), help: ArgumentHelp("FORMAT:RATE:CHANNELS of --pcm-socket / --pcm-fifo.", valueName: "format"))
    var format = "s16le:16000:1"

    /// Whether a stream was asked for.
    var isGiven: Bool { stdin != nil || socket != nil || fifo != nil }

    func validate() throws {
        guard [stdin, socket, fifo].compactMap({ $0 }).count <= 1 else {
            throw ValidationError("give at most one of --pcm-stdin, --pcm-socket, --pcm-fifo")
        }
    }

    /// The stream asked for, format parsed (a bad one is a one-line error); nil when none was.
    func input() throws -> LivePCMInput? {
        if let stdin { return LivePCMInput(endpoint: .stdin, format: try PCMStreamFormat(parsing: stdin)) }
        guard let path = socket ?? fifo else { return nil }
        return LivePCMInput(endpoint: socket != nil ? .socket(path) : .fifo(path), format: try PCMStreamFormat(parsing: format))
    }
}
