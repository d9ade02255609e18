import Foundation

/// RIFF/WAVE (and RF64) reading to mono ``AudioBuffer`` (for analysis) or ``InterleavedAudio`` (every channel, for
/// playback), and 16-bit mono writing.
///
/// Reads PCM 8 (unsigned), 16, 24 and 32-bit integers (also 20/12-bit in wider containers), 32/64-bit IEEE
/// float, G.711 A-law and µ-law, plain or WAVE_FORMAT_EXTENSIBLE, any channel count (averaged to mono) and
/// any rate. Chunks may come in any order and odd-sized chunks carry a pad byte.
///
/// A data chunk whose declared size runs past the end of the file (a recording cut off, or a streaming
/// writer's `0xFFFFFFFF` "unknown length") is read to the end of the file, keeping every whole sample
/// frame present; a trailing partial frame is dropped. ``WAVFile/Info/isTruncated`` reports this.
public enum WAVFile {
    /// What the header says about a file's audio.
    public struct Info: Sendable, Equatable {
        /// The format tag, resolved through the extensible sub-format GUID (1 PCM, 3 float, 6 A-law, 7 µ-law).
        public var formatTag: UInt16
        /// Channels in the file (before the mixdown to mono).
        public var channels: Int
        /// Sample rate in Hz.
        public var sampleRate: Int
        /// Bits per sample container (8, 16, 24, 32 or 64).
        public var bitsPerSample: Int
        /// Sample frames decoded.
        public var frameCount: Int
        /// True when the data chunk claimed more bytes than the file holds (and was read to end of file).
        public var isTruncated: Bool

        /// Creates a description (the reader fills these in; public so callers can compare).
        public init(formatTag: UInt16, channels: Int, sampleRate: Int, bitsPerSample: Int, frameCount: Int,
                    isTruncated: Bool) {
            self.formatTag = formatTag
            self.channels = channels
            self.sampleRate = sampleRate
            self.bitsPerSample = bitsPerSample
            self.frameCount = frameCount
            self.isTruncated = isTruncated
        }
    }

    /// Reads a WAV file and mixes it down to mono at the file's own rate.
    public static func read(contentsOf url: URL) throws -> AudioBuffer {
        try read(data: MediaFileIO.readBytes(of: url), name: url.path)
    }

    /// Reads WAV bytes and mixes them down to mono at the file's own rate; `name` is used in error messages.
    public static func read(data: [UInt8], name: String) throws -> AudioBuffer {
        try readWithInfo(data: data, name: name).audio
    }

    /// Reads a WAV file and also returns what the header said.
    public static func readWithInfo(contentsOf url: URL) throws -> (audio: AudioBuffer, info: Info) {
        try readWithInfo(data: MediaFileIO.readBytes(of: url), name: url.path)
    }

    /// What the header of WAV bytes says, without decoding the samples (e.g. to refuse a file by its length
    /// before spending memory on it); throws the same errors as ``read(data:name:)`` for a bad header.
    public static func info(data: [UInt8], name: String) throws -> Info {
        try WAVLayout.parse(data, name: name).info
    }

    /// Reads WAV bytes and also returns what the header said.
    public static func readWithInfo(data: [UInt8], name: String) throws -> (audio: AudioBuffer, info: Info) {
        let layout = try WAVLayout.parse(data, name: name)
        let samples = data.withUnsafeBytes { raw in
            WAVLayout.decodeMono(raw, layout: layout)
        }
        return (AudioBuffer(sampleRate: layout.sampleRate, samples: samples), layout.info)
    }

    /// Reads a WAV file keeping its channels, at the file's own rate: what is played (the mono copy is for analysis).
    public static func readInterleaved(contentsOf url: URL) throws -> InterleavedAudio {
        try readInterleaved(data: MediaFileIO.readBytes(of: url), name: url.path)
    }

    /// Reads WAV bytes keeping their channels; `name` is used in error messages.
    public static func readInterleaved(data: [UInt8], name: String) throws -> InterleavedAudio {
        let layout = try WAVLayout.parse(data, name: name)
        let samples = data.withUnsafeBytes { raw in
            WAVLayout.decodeInterleaved(raw, layout: layout)
        }
        return InterleavedAudio(sampleRate: layout.sampleRate, channels: layout.channels, samples: samples)
    }

    /// Encodes mono audio as a 16-bit PCM WAV: samples × 32768, rounded, clipped to the Int16 range; NaN → 0.
    public static func encode(_ audio: AudioBuffer) throws -> [UInt8] {
        let dataBytes = audio.samples.count * 2
        guard dataBytes <= Int(UInt32.max) - 36 else {
            throw MediaError(file: "<memory>", problem: "audio too long for a WAV file (\(audio.samples.count) samples)")
        }
        var out = [UInt8]()
        out.reserveCapacity(44 + dataBytes)
        func ascii(_ s: String) { out.append(contentsOf: Array(s.utf8)) }
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { out.append(contentsOf: $0) } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { out.append(contentsOf: $0) } }
        ascii("RIFF"); u32(36 + dataBytes); ascii("WAVE")
        ascii("fmt "); u32(16); u16(1); u16(1); u32(audio.sampleRate); u32(audio.sampleRate * 2); u16(2); u16(16)
        ascii("data"); u32(dataBytes)
        let headerCount = out.count
        out.append(contentsOf: repeatElement(0, count: dataBytes))
        audio.samples.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBytes { dst in
                for (i, s) in src.enumerated() {
                    // Scale by 32768 like the reader, so 16-bit samples survive read → write unchanged.
                    let scaled = s.isNaN ? 0 : (s * 32768).rounded()
                    let v = Int16(min(max(scaled, -32768), 32767))
                    dst.storeBytes(of: v.littleEndian, toByteOffset: headerCount + i * 2, as: Int16.self)
                }
            }
        }
        return out
    }

    /// Writes 16-bit PCM mono, atomically (temporary file, then rename).
    public static func write(_ audio: AudioBuffer, to url: URL) throws {
        let bytes: [UInt8]
        do { bytes = try encode(audio) } catch let error as MediaError {
            throw MediaError(file: url.path, problem: error.problem)
        }
        try MediaFileIO.writeAtomically(bytes, to: url)
    }
}

/// Sample encodings the reader understands.
enum WAVSampleFormat: Equatable {
    case unsignedInt8, signedInt16, signedInt24, signedInt32, float32, float64, aLaw, muLaw

    var tag: UInt16 {
        switch self {
        case .float32, .float64: return 3
        case .aLaw: return 6
        case .muLaw: return 7
        default: return 1
        }
    }
}

/// Where the samples are and how they are encoded, after validating the header.
struct WAVLayout {
    var format: WAVSampleFormat
    var channels: Int
    var sampleRate: Int
    var bytesPerSample: Int
    var dataOffset: Int
    var frameCount: Int
    var isTruncated: Bool

    var info: WAVFile.Info {
        WAVFile.Info(formatTag: format.tag, channels: channels, sampleRate: sampleRate, bitsPerSample: bytesPerSample * 8,
                     frameCount: frameCount, isTruncated: isTruncated)
    }

    static func parse(_ data: [UInt8], name: String) throws -> WAVLayout {
        func fail(_ problem: String) -> MediaError { MediaError(file: name, problem: problem) }
        func u16(_ i: Int) -> Int { Int(data[i]) | Int(data[i + 1]) << 8 }
        func u32(_ i: Int) -> Int { u16(i) | u16(i + 2) << 16 }
        func u64(_ i: Int) -> UInt64 { UInt64(u32(i)) | UInt64(u32(i + 4)) << 32 }
        func fourCC(_ i: Int) -> String {
            String(decoding: data[i..<i + 4].map { (32...126).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
        }

        if data.isEmpty { throw fail("empty file") }
        guard data.count >= 12 else { throw fail("not a WAV file (only \(data.count) bytes)") }
        let riff = fourCC(0)
        guard riff == "RIFF" || riff == "RF64", fourCC(8) == "WAVE" else {
            if riff == "RIFX" { throw fail("big-endian RIFX WAV is not supported") }
            throw fail("not a WAV file (no RIFF/WAVE header)")
        }
        var ds64DataSize: UInt64? = nil
        var fmt: (offset: Int, size: Int)? = nil
        var dataChunk: (offset: Int, declared: UInt64)? = nil
        var cutShort: String? = nil
        var position = 12
        while position + 8 <= data.count {
            let id = fourCC(position)
            let size = u32(position + 4)
            let body = position + 8
            if id == "data" {
                var declared = UInt64(size)
                if size == 0xFFFF_FFFF, let big = ds64DataSize { declared = big }
                dataChunk = (body, declared)
                // Data normally runs to (or past) the end; only keep scanning when it is complete and more follows.
                if declared >= UInt64(data.count - body) { break }
                position = body + Int(declared) + Int(declared & 1)
                continue
            } else if id == "fmt " {
                guard size <= data.count - body else { throw fail("truncated: the fmt chunk runs past the end of the file") }
                fmt = (body, size)
            } else if id == "ds64" && riff == "RF64" && size >= 24 && body + 24 <= data.count {
                ds64DataSize = u64(body + 8)
            }
            if size > data.count - body {  // a chunk cut short: nothing more to find
                cutShort = id
                break
            }
            position = body + size + (size & 1)
        }
        guard let fmt else { throw fail("no fmt chunk (not a valid WAV file)") }
        guard fmt.size >= 16 else { throw fail("fmt chunk too short (\(fmt.size) bytes)") }
        guard let dataChunk else {
            if let cutShort { throw fail("no data chunk (the file ends inside the '\(cutShort)' chunk)") }
            throw fail("no data chunk")
        }

        var tag = u16(fmt.offset)
        let channels = u16(fmt.offset + 2)
        let rate = u32(fmt.offset + 4)
        let blockAlign = u16(fmt.offset + 12)
        let bits = u16(fmt.offset + 14)
        if tag == 0xFFFE {
            guard fmt.size >= 40, u16(fmt.offset + 16) >= 22 else {
                throw fail("WAVE_FORMAT_EXTENSIBLE header too short (\(fmt.size) bytes)")
            }
            let guidTail: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
            guard Array(data[fmt.offset + 26..<fmt.offset + 40]) == guidTail else {
                throw fail("unsupported WAVE_FORMAT_EXTENSIBLE sub-format (not a standard KSDATAFORMAT GUID)")
            }
            tag = u16(fmt.offset + 24)
        }
        guard channels > 0 else { throw fail("invalid WAV: zero channels") }
        guard rate > 0 else { throw fail("invalid WAV: zero sample rate") }
        guard blockAlign > 0, blockAlign % channels == 0 else {
            throw fail("invalid WAV: block align \(blockAlign) does not fit \(channels) channels")
        }
        let bytesPerSample = blockAlign / channels
        let format: WAVSampleFormat
        switch (tag, bytesPerSample) {
        case (1, 1): format = .unsignedInt8
        case (1, 2): format = .signedInt16
        case (1, 3): format = .signedInt24
        case (1, 4): format = .signedInt32
        case (3, 4): format = .float32
        case (3, 8): format = .float64
        case (6, 1): format = .aLaw
        case (7, 1): format = .muLaw
        case (1, _), (3, _), (6, _), (7, _):
            throw fail("unsupported WAV sample size: \(WAVLayout.formatName(tag)) with \(bits) bits in \(bytesPerSample)-byte samples")
        default:
            throw fail("unsupported WAV encoding: \(WAVLayout.formatName(tag)) (format tag 0x\(String(format: "%04X", tag))); "
                + "convert to PCM, e.g. ffmpeg -i in.wav -c:a pcm_s16le out.wav")
        }
        guard bits > 0 && bits <= bytesPerSample * 8 else {
            throw fail("invalid WAV: \(bits) bits per sample in \(bytesPerSample)-byte samples")
        }
        let available = UInt64(data.count - dataChunk.offset)
        // 0xFFFFFFFF is the streaming writers' "length unknown": read to end of file, not a truncation.
        let isTruncated = dataChunk.declared > available && dataChunk.declared != 0xFFFF_FFFF
        let usable = Int(min(dataChunk.declared, available))
        return WAVLayout(format: format, channels: channels, sampleRate: rate, bytesPerSample: bytesPerSample,
                         dataOffset: dataChunk.offset, frameCount: usable / blockAlign, isTruncated: isTruncated)
    }

    /// A readable name for a WAV format tag, for error messages.
    static func formatName(_ tag: Int) -> String {
        switch tag {
        case 0x0001: return "PCM"
        case 0x0002: return "Microsoft ADPCM"
        case 0x0003: return "IEEE float"
        case 0x0006: return "A-law"
        case 0x0007: return "mu-law"
        case 0x0011: return "IMA ADPCM"
        case 0x0022: return "TrueSpeech"
        case 0x0031: return "GSM 6.10"
        case 0x0050: return "MPEG audio"
        case 0x0055: return "MPEG Layer 3 (MP3)"
        case 0x00FF, 0x1610: return "AAC"
        case 0x0161, 0x0162, 0x0163: return "Windows Media Audio"
        case 0x2000: return "AC-3"
        case 0xF1AC: return "FLAC"
        default: return "unknown format"
        }
    }

    /// Decodes every frame and averages the channels.
    static func decodeMono(_ raw: UnsafeRawBufferPointer, layout: WAVLayout) -> [Float] {
        var out = [Float](repeating: 0, count: layout.frameCount)
        guard layout.frameCount > 0, let start = raw.baseAddress else { return out }
        let base = start + layout.dataOffset
        out.withUnsafeMutableBufferPointer { dst in
            // One specialised loop per format, so the format switch stays out of the per-sample path.
            switch layout.format {
            case .unsignedInt8: mix(base, layout, dst) { sample($0, .unsignedInt8) }
            case .signedInt16: mix(base, layout, dst) { sample($0, .signedInt16) }
            case .signedInt24: mix(base, layout, dst) { sample($0, .signedInt24) }
            case .signedInt32: mix(base, layout, dst) { sample($0, .signedInt32) }
            case .float32: mix(base, layout, dst) { sample($0, .float32) }
            case .float64: mix(base, layout, dst) { sample($0, .float64) }
            case .aLaw: mix(base, layout, dst) { sample($0, .aLaw) }
            case .muLaw: mix(base, layout, dst) { sample($0, .muLaw) }
            }
        }
        return out
    }

    /// Decodes every sample, channels kept interleaved.
    static func decodeInterleaved(_ raw: UnsafeRawBufferPointer, layout: WAVLayout) -> [Float] {
        let count = layout.frameCount * layout.channels
        var out = [Float](repeating: 0, count: count)
        guard count > 0, let start = raw.baseAddress else { return out }
        let base = start + layout.dataOffset, width = layout.bytesPerSample
        out.withUnsafeMutableBufferPointer { dst in
            func each(_ read: (UnsafeRawPointer) -> Float) {
                for i in 0..<count { dst[i] = read(base + i * width) }
            }
            switch layout.format {
            case .unsignedInt8: each { sample($0, .unsignedInt8) }
            case .signedInt16: each { sample($0, .signedInt16) }
            case .signedInt24: each { sample($0, .signedInt24) }
            case .signedInt32: each { sample($0, .signedInt32) }
            case .float32: each { sample($0, .float32) }
            case .float64: each { sample($0, .float64) }
            case .aLaw: each { sample($0, .aLaw) }
            case .muLaw: each { sample($0, .muLaw) }
            }
        }
        return out
    }

    @inline(__always)
    private static func mix(_ base: UnsafeRawPointer, _ layout: WAVLayout, _ dst: UnsafeMutableBufferPointer<Float>,
                            _ read: (UnsafeRawPointer) -> Float) {
        let channels = layout.channels, width = layout.bytesPerSample
        if channels == 1 {
            for f in 0..<layout.frameCount { dst[f] = read(base + f * width) }
            return
        }
        let scale = 1 / Float(channels)
        for f in 0..<layout.frameCount {
            let frame = base + f * channels * width
            var sum: Float = 0
            for c in 0..<channels { sum += read(frame + c * width) }
            dst[f] = sum * scale
        }
    }

    /// One sample as a float in [-1, 1]. Float samples are clipped to that range and NaN/∞ become 0.
    @inline(__always)
    static func sample(_ p: UnsafeRawPointer, _ format: WAVSampleFormat) -> Float {
        switch format {
        case .unsignedInt8:
            return (Float(p.load(as: UInt8.self)) - 128) * (1 / 128)
        case .signedInt16:
            return Float(Int16(littleEndian: p.loadUnaligned(as: Int16.self))) * (1 / 32768)
        case .signedInt24:
            let v = Int32(p.load(fromByteOffset: 0, as: UInt8.self)) << 8
                | Int32(p.load(fromByteOffset: 1, as: UInt8.self)) << 16
                | Int32(p.load(fromByteOffset: 2, as: UInt8.self)) << 24
            return Float(v >> 8) * (1 / 8_388_608)
        case .signedInt32:
            return Float(Int32(littleEndian: p.loadUnaligned(as: Int32.self))) * (1 / 2_147_483_648)
        case .float32:
            let v = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
            return v.isFinite ? min(max(v, -1), 1) : 0
        case .float64:
            let v = Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)))
            return v.isFinite ? Float(min(max(v, -1), 1)) : 0
        case .aLaw:
            return G711.aLaw[Int(p.load(as: UInt8.self))]
        case .muLaw:
            return G711.muLaw[Int(p.load(as: UInt8.self))]
        }
    }
}

/// ITU-T G.711 expansion tables, scaled to [-1, 1] by the 16-bit full scale.
enum G711 {
    static let aLaw: [Float] = (0..<256).map { code in
        let a = code ^ 0x55
        let exponent = (a >> 4) & 7
        let mantissa = a & 0x0F
        var magnitude = (mantissa << 4) + 8
        if exponent != 0 { magnitude = (magnitude + 0x100) << (exponent - 1) }
        return Float((a & 0x80) != 0 ? magnitude : -magnitude) / 32768
    }

    static let muLaw: [Float] = (0..<256).map { code in
        let u = ~code & 0xFF
        let exponent = (u >> 4) & 7
        let mantissa = u & 0x0F
        let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
        return Float((u & 0x80) != 0 ? -magnitude : magnitude) / 32768
    }
}
