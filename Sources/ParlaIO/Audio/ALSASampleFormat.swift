import CALSA

/// The interleaved sample formats Parla reads from a capture device, in the order it asks for them: many USB and
/// I2S microphones' `hw:` devices offer only 32-bit, packed 24-bit or float samples, so 16-bit is tried first and
/// the others after it. Captured samples are converted to floats in [-1, 1] (integers scaled by 2^(bits−1), as
/// WAV readers do; floats clamped, NaN and ∞ → 0).
public enum ALSASampleFormat: String, CaseIterable, Sendable {
    /// S16_LE.
    case s16le = "S16_LE"
    /// S32_LE.
    case s32le = "S32_LE"
    /// S24_LE: 24 significant bits in the low three bytes of a 32-bit container.
    case s24le = "S24_LE"
    /// S24_3LE: 24 bits packed in three bytes.
    case s24le3 = "S24_3LE"
    /// FLOAT_LE: 32-bit IEEE float.
    case float32le = "FLOAT_LE"

    /// Bytes per sample.
    public var bytes: Int {
        switch self {
        case .s16le: 2
        case .s24le3: 3
        case .s32le, .s24le, .float32le: 4
        }
    }

    var alsa: snd_pcm_format_t {
        switch self {
        case .s16le: SND_PCM_FORMAT_S16_LE
        case .s32le: SND_PCM_FORMAT_S32_LE
        case .s24le: SND_PCM_FORMAT_S24_LE
        case .s24le3: SND_PCM_FORMAT_S24_3LE
        case .float32le: SND_PCM_FORMAT_FLOAT_LE
        }
    }

    /// The first of `preferred` that `offers` says the device takes, nil when none.
    static func negotiate(_ preferred: [ALSASampleFormat], offers: (ALSASampleFormat) -> Bool) -> ALSASampleFormat? {
        preferred.first(where: offers)
    }

    /// Converts `count` samples stored at `raw` (any alignment) to floats.
    public func convert(_ raw: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
        switch self {
        case .s16le:
            for i in 0..<count {
                out[i] = Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) * (1 / 32_768)
            }
        case .s32le:
            for i in 0..<count {
                out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) * (1 / 2_147_483_648)
            }
        case .s24le:
            for i in 0..<count {
                // The top byte is padding (zero or a sign copy, depending on the driver): shift it out.
                let v = Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) << 8
                out[i] = Float(v >> 8) * (1 / 8_388_608)
            }
        case .s24le3:
            for i in 0..<count {
                let p = raw + 3 * i
                let v = Int32(bitPattern: UInt32(p.load(as: UInt8.self)) << 8 | UInt32(p.load(fromByteOffset: 1, as: UInt8.self)) << 16
                              | UInt32(p.load(fromByteOffset: 2, as: UInt8.self)) << 24)
                out[i] = Float(v >> 8) * (1 / 8_388_608)
            }
        case .float32le:
            for i in 0..<count {
                let v = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                out[i] = v.isFinite ? min(max(v, -1), 1) : 0
            }
        }
    }

    /// Plain reference for ``convert(_:count:into:)``: assembles each sample from its bytes one at a time and scales
    /// it in double precision. Tests compare the two bit for bit.
    public func convertReference(_ bytes: [UInt8], count: Int) -> [Float] {
        (0..<count).map { i in
            let b = bytes[(i * self.bytes)..<((i + 1) * self.bytes)].map { UInt64($0) }
            var word: UInt64 = 0
            for (k, byte) in b.enumerated() { word |= byte << (8 * UInt64(k)) }
            func signed(_ value: UInt64, bits: Int) -> Double {
                let v = Int64(value & ((1 << UInt64(bits)) - 1))
                return Double(v >= 1 << Int64(bits - 1) ? v - (1 << Int64(bits)) : v)
            }
            switch self {
            case .s16le: return Float(signed(word, bits: 16) / 32_768)
            case .s32le: return Float(signed(word, bits: 32) / 2_147_483_648)
            case .s24le, .s24le3: return Float(signed(word, bits: 24) / 8_388_608)
            case .float32le:
                let v = Float(bitPattern: UInt32(word))
                if v.isNaN || v.isInfinite { return 0 }
                return v > 1 ? 1 : (v < -1 ? -1 : v)
            }
        }
    }
}
