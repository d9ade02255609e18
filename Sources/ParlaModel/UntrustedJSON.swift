import Foundation

/// Decoding JSON that comes from outside (model and avatar files, reports, request bodies).
///
/// Foundation's `JSONDecoder` in Swift 6.0 (the toolchain of the arm64 builds) stops the process with a `try!` failure
/// when a string in the input holds invalid UTF-8, instead of throwing; so the bytes are validated first.
extension JSONDecoder {
    /// `decode(_:from:)` that throws ``InvalidUTF8Error`` for bytes that are not UTF-8.
    public func decodeUntrusted<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        guard isValidUTF8(data) else { throw InvalidUTF8Error() }
        return try decode(type, from: data)
    }
}

/// Input that should be UTF-8 text is not.
public struct InvalidUTF8Error: Error, CustomStringConvertible, Sendable {
    public init() {}
    public var description: String { "the text is not valid UTF-8" }
}

/// Whether `bytes` are well-formed UTF-8 (no stray continuation bytes, overlong forms, surrogates or truncation).
public func isValidUTF8(_ bytes: some Sequence<UInt8>) -> Bool {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    while true {
        switch decoder.decode(&iterator) {
        case .scalarValue: continue
        case .emptyInput: return true
        case .error: return false
        }
    }
}
