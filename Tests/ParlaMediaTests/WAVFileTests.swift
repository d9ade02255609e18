import Foundation
import ParlaMedia
import ParlaTestSupport
import XCTest

/// Builds WAV bytes by hand so every header field can be set (or broken) on purpose.
struct WAVBuilder {
    var formatTag: UInt16 = 1
    var channels = 1
    var rate = 16_000
    var bits = 16
    var blockAlign: Int? = nil
    var extensibleSubFormat: UInt16? = nil
    var chunksBeforeFmt: [(String, [UInt8])] = []
    var chunksBeforeData: [(String, [UInt8])] = []
    var chunksAfterData: [(String, [UInt8])] = []
    var dataSizeField: UInt32? = nil
    var fmtFirst = true
    var riff = "RIFF"

    func bytes(data: [UInt8]) -> [UInt8] {
        let align = blockAlign ?? channels * ((bits + 7) / 8)
        var fmt = le16(extensibleSubFormat == nil ? formatTag : 0xFFFE) + le16(UInt16(channels)) + le32(UInt32(rate))
            + le32(UInt32(rate * align)) + le16(UInt16(align)) + le16(UInt16(bits))
        if let sub = extensibleSubFormat {
            fmt += le16(22) + le16(UInt16(bits)) + le32(0x3) + le16(sub)
                + [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
        }
        var body = Array("WAVE".utf8)
        for (id, content) in chunksBeforeFmt { body += chunk(id, content) }
        let dataChunk = Array("data".utf8) + le32(dataSizeField ?? UInt32(data.count)) + data + (data.count % 2 == 1 ? [0] : [])
        if fmtFirst { body += chunk("fmt ", fmt) }
        for (id, content) in chunksBeforeData { body += chunk(id, content) }
        body += dataChunk
        if !fmtFirst { body += chunk("fmt ", fmt) }
        for (id, content) in chunksAfterData { body += chunk(id, content) }
        return Array(riff.utf8) + le32(UInt32(body.count)) + body
    }

    private func chunk(_ id: String, _ content: [UInt8]) -> [UInt8] {
        Array(id.utf8) + le32(UInt32(content.count)) + content + (content.count % 2 == 1 ? [0] : [])
    }
}

func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
func le32(_ v: UInt32) -> [UInt8] { le16(UInt16(v & 0xFFFF)) + le16(UInt16(v >> 16)) }

final class WAVFileTests: XCTestCase {
    let values: [Float] = [0, 0.5, -0.5, 0.25, -1, 0.999]

    func testEverySampleFormatDecodesToTheSameValues() throws {
        func check(_ builder: WAVBuilder, _ data: [UInt8], tolerance: Float, _ label: String) throws {
            let audio = try WAVFile.read(data: builder.bytes(data: data), name: label)
            XCTAssertEqual(audio.sampleRate, builder.rate, label)
            XCTAssertEqual(audio.samples.count, values.count, label)
            for (got, want) in zip(audio.samples, values) { XCTAssertEqual(got, want, accuracy: tolerance, label) }
        }
        let u8 = values.map { UInt8(clamping: Int(($0 * 128).rounded()) + 128) }
        try check(WAVBuilder(bits: 8), u8, tolerance: 1 / 128, "u8")
        let s16 = values.flatMap { le16(UInt16(bitPattern: Int16(clamping: Int(($0 * 32768).rounded())))) }
        try check(WAVBuilder(bits: 16), s16, tolerance: 1 / 32768, "s16")
        let s24 = values.flatMap { v -> [UInt8] in
            let i = UInt32(bitPattern: Int32(min(max(Int((v * 8_388_608).rounded()), -8_388_608), 8_388_607)))
            return [UInt8(i & 0xFF), UInt8(i >> 8 & 0xFF), UInt8(i >> 16 & 0xFF)]
        }
        try check(WAVBuilder(bits: 24), s24, tolerance: 1 / 8_388_608, "s24")
        let s32 = values.flatMap { le32(UInt32(bitPattern: Int32(clamping: Int((Double($0) * 2_147_483_648).rounded())))) }
        try check(WAVBuilder(bits: 32), s32, tolerance: 1e-7, "s32")
        let f32 = values.flatMap { le32($0.bitPattern) }
        try check(WAVBuilder(formatTag: 3, bits: 32), f32, tolerance: 0, "f32")
        let f64 = values.flatMap { v -> [UInt8] in let b = Double(v).bitPattern; return le32(UInt32(b & 0xFFFF_FFFF)) + le32(UInt32(b >> 32)) }
        try check(WAVBuilder(formatTag: 3, bits: 64), f64, tolerance: 0, "f64")
        try check(WAVBuilder(bits: 16, extensibleSubFormat: 1), s16, tolerance: 1 / 32768, "extensible s16")
        try check(WAVBuilder(bits: 24, extensibleSubFormat: 1), s24, tolerance: 1 / 8_388_608, "extensible s24")
        try check(WAVBuilder(formatTag: 3, bits: 32, extensibleSubFormat: 3), f32, tolerance: 0, "extensible f32")
        // 20-bit samples in 3-byte containers are left-justified: same bytes, same values.
        try check(WAVBuilder(bits: 20, blockAlign: 3, extensibleSubFormat: 1), s24, tolerance: 1 / 8_388_608, "20-in-24")
    }

    func testG711LawsDecodeKnownCodes() throws {
        // A-law 0xD5 and µ-law 0xFF are the smallest positive steps; 0x55 / 0x7F their negatives; 0xAA / 0x80 near full scale.
        let a = try WAVFile.read(data: WAVBuilder(formatTag: 6, bits: 8).bytes(data: [0xD5, 0x55, 0xAA]), name: "a.wav")
        XCTAssertEqual(a.samples, [8 / 32768, -8 / 32768, 32256 / 32768] as [Float])
        let u = try WAVFile.read(data: WAVBuilder(formatTag: 7, bits: 8).bytes(data: [0xFF, 0x7F, 0x80]), name: "u.wav")
        XCTAssertEqual(u.samples, [0, 0, 32124 / 32768] as [Float])
    }

    func testChannelsAreAveragedToMono() throws {
        var stereo = [UInt8]()
        for (l, r) in [(Int16(16384), Int16(-16384)), (8192, 8192), (-32768, 0)] {
            stereo += le16(UInt16(bitPattern: l)) + le16(UInt16(bitPattern: r))
        }
        let audio = try WAVFile.read(data: WAVBuilder(channels: 2, rate: 44_100).bytes(data: stereo), name: "st.wav")
        XCTAssertEqual(audio.sampleRate, 44_100)
        XCTAssertEqual(audio.samples, [0, 0.25, -0.5])
        // Six channels of 32-bit float (5.1 extensible).
        let frame: [Float] = [0.6, 0, 0, 0, 0, 0]
        let six = WAVBuilder(formatTag: 3, channels: 6, rate: 48_000, bits: 32, extensibleSubFormat: 3)
        let (surround, info) = try WAVFile.readWithInfo(data: six.bytes(data: (frame + frame).flatMap { le32($0.bitPattern) }), name: "51.wav")
        XCTAssertEqual(surround.samples.count, 2)
        XCTAssertEqual(surround.samples[0], 0.1, accuracy: 1e-7)
        XCTAssertEqual(info, WAVFile.Info(formatTag: 3, channels: 6, sampleRate: 48_000, bitsPerSample: 32, frameCount: 2, isTruncated: false))
    }

    func testChunkOrderAndOddPaddingAreHandled() throws {
        let data = le16(16384) + le16(UInt16(bitPattern: -16384)) + le16(0)
        var builder = WAVBuilder()
        builder.chunksBeforeFmt = [("JUNK", [1, 2, 3])]            // odd size: one pad byte follows
        builder.chunksBeforeData = [("LIST", Array("INFOISFT\u{5}\0\0\0Lavf\0".utf8))]
        builder.chunksAfterData = [("id3 ", [9, 9, 9, 9, 9])]
        XCTAssertEqual(try WAVFile.read(data: builder.bytes(data: data), name: "x.wav").samples, [0.5, -0.5, 0])
        builder.fmtFirst = false                                   // fmt after a complete data chunk
        XCTAssertEqual(try WAVFile.read(data: builder.bytes(data: data), name: "x.wav").samples, [0.5, -0.5, 0])
        // An 8-bit mono data chunk of odd length, followed by its pad byte and another chunk.
        var odd = WAVBuilder(bits: 8)
        odd.chunksAfterData = [("cue ", [0, 0, 0, 0])]
        XCTAssertEqual(try WAVFile.read(data: odd.bytes(data: [128, 192, 64]), name: "odd.wav").samples, [0, 0.5, -0.5])
    }

    func testTruncatedAndStreamingDataChunksReadToEndOfFile() throws {
        let frames = (0..<10).flatMap { le16(UInt16($0 * 1000)) }
        // Declared 40 bytes, 20 present: keep the 10 whole frames, flag it.
        var builder = WAVBuilder()
        builder.dataSizeField = 40
        let truncated = builder.bytes(data: frames)
        let (audio, info) = try WAVFile.readWithInfo(data: truncated, name: "cut.wav")
        XCTAssertEqual(audio.samples.count, 10)
        XCTAssertTrue(info.isTruncated)
        // Cut mid-frame: the partial frame is dropped.
        XCTAssertEqual(try WAVFile.read(data: Array(truncated.dropLast(1)), name: "cut.wav").samples.count, 9)
        // Streaming writers put 0xFFFFFFFF: read to the end, not flagged as truncated.
        builder.dataSizeField = 0xFFFF_FFFF
        let (streamed, streamInfo) = try WAVFile.readWithInfo(data: builder.bytes(data: frames), name: "pipe.wav")
        XCTAssertEqual(streamed.samples.count, 10)
        XCTAssertEqual(streamed.samples[3], 3000 / 32768)
        XCTAssertFalse(streamInfo.isTruncated)
        // RF64 with the real size in ds64.
        var rf64 = WAVBuilder()
        rf64.riff = "RF64"
        rf64.dataSizeField = 0xFFFF_FFFF
        rf64.chunksBeforeFmt = [("ds64", le32(0) + le32(0) + le32(8) + le32(0) + le32(4) + le32(0) + le32(0))]
        XCTAssertEqual(try WAVFile.read(data: rf64.bytes(data: frames), name: "big.wav").samples.count, 4)
        // An empty data chunk is a valid, silent file.
        XCTAssertEqual(try WAVFile.read(data: WAVBuilder().bytes(data: []), name: "e.wav").samples, [])
    }

    func testBadFilesGiveOneLineErrorsNamingTheFile() throws {
        let pcm = le16(1) + le16(2)
        assertError(try WAVFile.read(data: [], name: "e.wav"), "e.wav: empty file")
        assertError(try WAVFile.read(data: Array("RIFF".utf8), name: "s.wav"), "s.wav: not a WAV file (only 4 bytes)")
        assertError(try WAVFile.read(data: Array("ID3\u{4}\0\0\0\0\0\0\0\0\0\0".utf8), name: "a.mp3"),
                    "a.mp3: not a WAV file (no RIFF/WAVE header)")
        var noFmt = WAVBuilder().bytes(data: pcm)
        noFmt.replaceSubrange(12..<16, with: Array("fmX ".utf8))
        assertError(try WAVFile.read(data: noFmt, name: "nf.wav"), "nf.wav: no fmt chunk (not a valid WAV file)")
        let onlyFmt = Array(WAVBuilder().bytes(data: []).prefix(36))
        assertError(try WAVFile.read(data: onlyFmt, name: "nd.wav"), "nd.wav: no data chunk")
        var cutList = WAVBuilder()
        cutList.chunksBeforeData = [("LIST", [UInt8](repeating: 0, count: 100))]
        assertError(try WAVFile.read(data: Array(cutList.bytes(data: pcm).prefix(80)), name: "cl.wav"),
                    "cl.wav: no data chunk (the file ends inside the 'LIST' chunk)")
        assertError(try WAVFile.read(data: WAVBuilder(formatTag: 0x11, bits: 4, blockAlign: 256).bytes(data: pcm), name: "ima.wav"),
                    "ima.wav: unsupported WAV encoding: IMA ADPCM (format tag 0x0011); convert to PCM, e.g. ffmpeg -i in.wav -c:a pcm_s16le out.wav")
        assertError(try WAVFile.read(data: WAVBuilder(formatTag: 2, bits: 4, blockAlign: 256).bytes(data: pcm), name: "ms.wav"),
                    "ms.wav: unsupported WAV encoding: Microsoft ADPCM (format tag 0x0002); convert to PCM, e.g. ffmpeg -i in.wav -c:a pcm_s16le out.wav")
        assertError(try WAVFile.read(data: WAVBuilder(channels: 0, blockAlign: 2).bytes(data: pcm), name: "c0.wav"),
                    "c0.wav: invalid WAV: zero channels")
        assertError(try WAVFile.read(data: WAVBuilder(rate: 0).bytes(data: pcm), name: "r0.wav"), "r0.wav: invalid WAV: zero sample rate")
        assertError(try WAVFile.read(data: WAVBuilder(channels: 2, blockAlign: 3).bytes(data: pcm), name: "ba.wav"),
                    "ba.wav: invalid WAV: block align 3 does not fit 2 channels")
        assertError(try WAVFile.read(data: WAVBuilder(formatTag: 3, bits: 16).bytes(data: pcm), name: "f16.wav"),
                    "f16.wav: unsupported WAV sample size: IEEE float with 16 bits in 2-byte samples")
        assertError(try WAVFile.read(data: WAVBuilder(bits: 40, blockAlign: 2).bytes(data: pcm), name: "b40.wav"),
                    "b40.wav: invalid WAV: 40 bits per sample in 2-byte samples")
        var shortFmt = WAVBuilder().bytes(data: pcm)
        shortFmt[16] = 14  // fmt chunk size 14 (old WAVEFORMAT without bits per sample)
        assertError(try WAVFile.read(data: shortFmt, name: "sf.wav"), "sf.wav: fmt chunk too short (14 bytes)")
        var badGUID = WAVBuilder(extensibleSubFormat: 1).bytes(data: pcm)
        badGUID[20 + 24 + 4] ^= 0xFF  // inside the GUID tail
        assertError(try WAVFile.read(data: badGUID, name: "g.wav"),
                    "g.wav: unsupported WAVE_FORMAT_EXTENSIBLE sub-format (not a standard KSDATAFORMAT GUID)")
        var rifx = WAVBuilder().bytes(data: pcm)
        rifx.replaceSubrange(0..<4, with: Array("RIFX".utf8))
        assertError(try WAVFile.read(data: rifx, name: "bx.wav"), "bx.wav: big-endian RIFX WAV is not supported")
        let missing = URL(fileURLWithPath: "/nonexistent/parla/x.wav")
        assertError(try WAVFile.read(contentsOf: missing), "/nonexistent/parla/x.wav: cannot open: No such file or directory")
    }

    func testWriteThenReadRoundTripsAt16Bits() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("voice.wav")
        var rng = SeededGenerator(seed: 11)
        let samples = (0..<1001).map { _ in Float.random(in: -1...1, using: &rng) } + [2, -3, .nan]
        try WAVFile.write(AudioBuffer(sampleRate: 22_050, samples: samples), to: url)
        let (back, info) = try WAVFile.readWithInfo(data: [UInt8](Data(contentsOf: url)), name: url.path)
        XCTAssertEqual(info, WAVFile.Info(formatTag: 1, channels: 1, sampleRate: 22_050, bitsPerSample: 16, frameCount: 1004, isTruncated: false))
        for (got, want) in zip(back.samples, samples.prefix(1001)) { XCTAssertEqual(got, want, accuracy: 0.5 / 32768) }
        XCTAssertEqual(Array(back.samples.suffix(3)), [32767 / 32768, -1, 0] as [Float], "clipped, NaN → 0")
        // Reading a 16-bit file and writing it again changes nothing.
        XCTAssertEqual(try WAVFile.encode(back), try [UInt8](Data(contentsOf: url)))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["voice.wav"])
    }

    func testRandomCorruptionNeverCrashes() throws {
        var rng = SeededGenerator(seed: 8)
        let base = WAVBuilder(channels: 2, bits: 24, extensibleSubFormat: 1).bytes(data: [UInt8](repeating: 7, count: 60))
        for _ in 0..<5000 {
            var bytes = base
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if Bool.random(using: &rng) { bytes.removeLast(Int.random(in: 0..<bytes.count, using: &rng)) }
            do { _ = try WAVFile.read(data: bytes, name: "fuzz.wav") } catch let error as MediaError {
                XCTAssertTrue(error.description.hasPrefix("fuzz.wav: "))
            }
        }
    }
}
