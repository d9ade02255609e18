/// The fixed 64-byte little-endian header at the start of every `.pmdl` file (docs/model-format.md).
public struct ModelFileHeader: Equatable, Sendable {
    /// Size of the header in bytes.
    public static let size = 64
    /// Alignment of the data section and of every tensor in it.
    public static let alignment = 64
    /// The first eight bytes of every model file: ASCII `PARLAMDL`.
    public static let magic: [UInt8] = Array("PARLAMDL".utf8)
    /// The newest format version this reader understands.
    public static let currentVersion: UInt32 = 2

    /// Format version (offset 8).
    public var formatVersion: UInt32
    /// Header size in bytes (offset 12), 64.
    public var headerSize: UInt32
    /// Byte offset of the JSON graph description (offset 16).
    public var jsonOffset: UInt64
    /// Byte length of the JSON (offset 24).
    public var jsonLength: UInt64
    /// Byte offset of the data section, a multiple of 64 (offset 32).
    public var dataOffset: UInt64
    /// Byte length of the data section (offset 40).
    public var dataLength: UInt64
    /// CRC-32 of the JSON bytes (offset 48).
    public var jsonCRC32: UInt32
    /// CRC-32 of the data section (offset 52).
    public var dataCRC32: UInt32
    /// Reserved, 0 (offset 56).
    public var reserved: UInt32
    /// CRC-32 of header bytes 0..<60 (offset 60).
    public var headerCRC32: UInt32

    /// Creates a header from its fields.
    public init(formatVersion: UInt32 = ModelFileHeader.currentVersion, headerSize: UInt32 = 64,
                jsonOffset: UInt64, jsonLength: UInt64, dataOffset: UInt64, dataLength: UInt64,
                jsonCRC32: UInt32, dataCRC32: UInt32, reserved: UInt32 = 0, headerCRC32: UInt32 = 0) {
        self.formatVersion = formatVersion
        self.headerSize = headerSize
        self.jsonOffset = jsonOffset
        self.jsonLength = jsonLength
        self.dataOffset = dataOffset
        self.dataLength = dataLength
        self.jsonCRC32 = jsonCRC32
        self.dataCRC32 = dataCRC32
        self.reserved = reserved
        self.headerCRC32 = headerCRC32
    }

    /// Reads the fields from the first 64 bytes (no checks beyond the length; `Model` validates).
    public init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= Self.size else { return nil }
        func u32(_ offset: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
        func u64(_ offset: Int) -> UInt64 { UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
        self.init(formatVersion: u32(8), headerSize: u32(12), jsonOffset: u64(16), jsonLength: u64(24),
                  dataOffset: u64(32), dataLength: u64(40), jsonCRC32: u32(48), dataCRC32: u32(52),
                  reserved: u32(56), headerCRC32: u32(60))
    }

    /// The 64 header bytes; with `sealed`, `headerCRC32` is replaced by the CRC-32 of bytes 0..<60.
    public func encoded(sealed: Bool = true) -> [UInt8] {
        var bytes = Self.magic
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        put(formatVersion); put(headerSize); put(jsonOffset); put(jsonLength); put(dataOffset); put(dataLength)
        put(jsonCRC32); put(dataCRC32); put(reserved)
        put(sealed ? CRC32.checksum(bytes) : headerCRC32)
        return bytes
    }
}
