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
    /// Values of the constant tensors, by tensor index.
    let constants: [Int: [Float]]

    /// Reads and validates a model file; throws a one-line `ModelError` naming the file on any problem.
    public convenience init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ModelError(file: url.path, problem: "cannot read file (\((error as NSError).localizedDescription))")
        }
        try self.init(data: data, fileName: url.lastPathComponent)
    }

    /// Validates a model file's bytes; `fileName` names the source in errors.
    public init(data: Data, fileName: String) throws {
        func fail(_ problem: String) -> ModelError { ModelError(file: fileName, problem: problem) }
        let bytes = [UInt8](data)
        let (header, json) = try bytes.withUnsafeBytes { raw -> (ModelFileHeader, ArraySlice<UInt8>) in
            let header = try Model.checkContainer(raw, fail: fail)
            return (header, bytes[Int(header.jsonOffset)..<Int(header.jsonOffset + header.jsonLength)])
        }
        let document: ModelDocument
        do {
            document = try JSONDecoder().decode(ModelDocument.self, from: Data(json))
        } catch let error as DecodingError {
            throw fail("malformed graph description: \(Model.summary(of: error))")
        } catch {
            throw fail("malformed graph description: \(error)")
        }
        let dataStart = Int(header.dataOffset)
        var validator = GraphValidator(file: fileName, document: document, dataLength: Int(header.dataLength))
        try validator.validate()

        var constants: [Int: [Float]] = [:]
        bytes.withUnsafeBytes { raw in
            for (index, entry) in document.tensors.enumerated() {
                guard let offset = entry.offset, let length = entry.length else { continue }
                let start = dataStart + offset
                constants[index] = (0..<(length / 4)).map { i in
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * i, as: UInt32.self)))
                }
            }
        }
        let tensors = validator.tensors
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
        self.constants = constants
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
