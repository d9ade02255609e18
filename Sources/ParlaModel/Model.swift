import Foundation
import ParlaKernels

/// A Parla model file (`.pmdl`, docs/model-format.md) loaded and fully validated: header, checksums, every
/// tensor's data range and every op's shapes are checked here, so `Executor` never sees a malformed graph.
/// Immutable after init (all stored properties are `let`s of Sendable value types), hence `Sendable`.
public final class Model: Sendable {
    /// The model's name from the file (e.g. `face_landmark`).
    public let name: String
    /// String metadata: `source`, `license`, `input.mean`, `input.std`, `output.<name>`, …
    public let metadata: [String: String]
    /// Shapes of the graph inputs, in order.
    public let inputShapes: [[Int]]
    /// Shapes of the graph outputs, in order.
    public let outputShapes: [[Int]]
    /// Names of the graph inputs, in order.
    public let inputNames: [String]
    /// Names of the graph outputs, in order.
    public let outputNames: [String]
    /// Every tensor of the graph (constants and activations).
    public let tensors: [ModelTensor]
    /// Number of ops in the graph.
    public var operationCount: Int { operations.count }

    let operations: [Operation]
    let inputIndices: [Int]
    let outputIndices: [Int]
    /// Values of the f32 constant tensors, by tensor index.
    let constants: [Int: [Float]]
    /// The file's bytes (memory-mapped when loaded from a file); i8/i32 constants are read from here.
    let storage: Data
    /// Byte range of each constant inside the data section.
    let tensorRanges: [Int: Range<Int>]
    /// Byte offset of the data section in `storage`.
    let dataStart: Int
    /// The format version of the file.
    public let formatVersion: Int
    /// True when the graph runs int8 ops (it has quantize ops).
    public var isQuantized: Bool { tensors.contains { $0.dataType == .i8 } }

    /// Reads and validates a model file; throws a one-line `ModelError` naming the file on any problem.
    public convenience init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw ModelError(file: url.path, problem: "cannot read file (\((error as NSError).localizedDescription))")
        }
        try self.init(data: data, fileName: url.lastPathComponent)
    }

    /// Validates a model file's bytes; `fileName` names the source in errors.
    public init(data: Data, fileName: String) throws {
        func fail(_ problem: String) -> ModelError { ModelError(file: fileName, problem: problem) }
        let (header, json) = try data.withUnsafeBytes { raw -> (ModelFileHeader, Data) in
            let header = try Model.checkContainer(raw, fail: fail)
            let start = Int(header.jsonOffset)
            return (header, Data(raw[start..<(start + Int(header.jsonLength))]))
        }
        let document: ModelDocument
        do {
            document = try JSONDecoder().decodeUntrusted(ModelDocument.self, from: json)
        } catch let error as DecodingError {
            throw fail("malformed graph description: \(Model.summary(of: error))")
        } catch {
            throw fail("malformed graph description: \(error)")
        }
        let dataStart = Int(header.dataOffset)
        var validator = GraphValidator(file: fileName, document: document, dataLength: Int(header.dataLength))
        try validator.validate()

        let tensors = validator.tensors
        var constants: [Int: [Float]] = [:]
        var ranges: [Int: Range<Int>] = [:]
        try data.withUnsafeBytes { raw in
            for (index, entry) in document.tensors.enumerated() {
                guard let offset = entry.offset, let length = entry.length else { continue }
                let start = dataStart + offset
                ranges[index] = offset..<(offset + length)
                switch tensors[index].dataType {
                case .f32:
                    constants[index] = (0..<(length / 4)).map { i in
                        Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * i, as: UInt32.self)))
                    }
                case .i8:
                    // Symmetric int8 weights are in -127...127 (the int8 kernels rely on it).
                    if UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)]).contains(0x80) {
                        throw fail("tensor '\(entry.name)' holds -128; int8 weights must be in -127...127")
                    }
                case .i32:
                    break
                }
            }
        }
        name = document.name
        metadata = document.metadata ?? [:]
        self.tensors = tensors
        operations = validator.operations
        inputIndices = document.inputs
        outputIndices = document.outputs
        inputShapes = document.inputs.map { tensors[$0].shape }
        outputShapes = document.outputs.map { tensors[$0].shape }
        inputNames = document.inputs.map { tensors[$0].name }
        outputNames = document.outputs.map { tensors[$0].name }
        // PReLU slopes become requantization multipliers: they must be finite and moderate.
        for op in validator.operations {
            switch op {
            case let .quantizedConv2d(_, _, _, _, _, _, _, _, slopes?), let .quantizedDepthwiseConv2d(_, _, _, _, _, _, _, slopes?),
                 let .quantizedPReLU(_, slopes, _, _), let .quantizedAdd(_, _, _, _, slopes?):
                guard constants[slopes]!.allSatisfy({ $0.isFinite && abs($0) <= 1e6 }) else {
                    throw fail("tensor '\(tensors[slopes].name)': PReLU slopes must be finite and within ±1e6")
                }
            default: break
            }
        }
        self.constants = constants
        tensorRanges = ranges
        storage = data
        self.dataStart = dataStart
        formatVersion = Int(header.formatVersion)
    }

    /// Calls `body` with the bytes of constant tensor `index` inside the (mapped) file.
    func withConstantBytes<R>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let entry = tensorRanges[index]!
        return try storage.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[(dataStart + entry.lowerBound)..<(dataStart + entry.upperBound)]))
        }
    }

    /// Calls `body` with constant `index` as int8 values (an i8 tensor), read from the mapping.
    func withInt8Constant<R>(_ index: Int, _ body: (UnsafeBufferPointer<Int8>) throws -> R) rethrows -> R {
        try withConstantBytes(index) { try body($0.bindMemory(to: Int8.self)) }
    }

    /// Constant `index` as int32 values (an i32 tensor, little-endian in the file).
    func int32Constant(_ index: Int) -> [Int32] {
        withConstantBytes(index) { raw in
            (0..<(raw.count / 4)).map { Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
        }
    }

    /// Checks magic, header checksum, version, section offsets, file length and payload checksums.
    private static func checkContainer(_ raw: UnsafeRawBufferPointer,
                                       fail: (String) -> ModelError) throws -> ModelFileHeader {
        let size = ModelFileHeader.size
        guard raw.count >= size else {
            throw fail("truncated: \(raw.count) bytes, the header alone needs \(size)")
        }
        guard raw.prefix(8).elementsEqual(ModelFileHeader.magic) else {
            throw fail("not a Parla model file (magic is not PARLAMDL)")
        }
        let header = ModelFileHeader(bytes: raw)!
        guard CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<60])) == header.headerCRC32 else {
            throw fail("checksum mismatch (file damaged)")
        }
        guard header.formatVersion >= 1, header.formatVersion <= ModelFileHeader.currentVersion else {
            throw fail("format version \(header.formatVersion) is not supported (this reader knows 1...\(ModelFileHeader.currentVersion))")
        }
        guard header.headerSize == UInt32(size) else { throw fail("header size \(header.headerSize) is not \(size)") }
        let limit = UInt64(Int32.max)
        guard header.jsonOffset >= UInt64(size), header.jsonLength <= limit, header.jsonOffset <= limit,
              header.dataOffset <= limit, header.dataLength <= limit,
              header.jsonOffset + header.jsonLength <= header.dataOffset else {
            throw fail("JSON section \(header.jsonOffset)..\(header.jsonOffset &+ header.jsonLength) does not end before the data section at \(header.dataOffset)")
        }
        guard header.dataOffset % UInt64(ModelFileHeader.alignment) == 0 else {
            throw fail("data section offset \(header.dataOffset) is not a multiple of \(ModelFileHeader.alignment)")
        }
        let expected = header.dataOffset + header.dataLength
        guard UInt64(raw.count) >= expected else {
            throw fail("truncated: header says \(expected) bytes, file has \(raw.count)")
        }
        guard UInt64(raw.count) == expected else {
            throw fail("\(UInt64(raw.count) - expected) unexpected bytes after the data section")
        }
        let jsonEnd = Int(header.jsonOffset + header.jsonLength), dataStart = Int(header.dataOffset)
        guard CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[Int(header.jsonOffset)..<jsonEnd])) == header.jsonCRC32,
              CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[dataStart...])) == header.dataCRC32,
              raw[jsonEnd..<dataStart].allSatisfy({ $0 == 0 }) else {
            throw fail("checksum mismatch (file damaged)")
        }
        return header
    }

    /// One line for a decoding error: what is wrong and where (coding path).
    private static func summary(of error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return keys.isEmpty ? "top level" : String(keys.drop(while: { $0 == "." }))
        }
        switch error {
        case let .keyNotFound(key, context):
            return "missing key '\(key.stringValue)' at \(path(context))"
        case let .typeMismatch(type, context):
            return "expected \(type) at \(path(context))"
        case let .valueNotFound(type, context):
            return "missing \(type) value at \(path(context))"
        case let .dataCorrupted(context):
            return "invalid JSON at \(path(context))"
        @unknown default:
            return "undecodable JSON"
        }
    }
}
