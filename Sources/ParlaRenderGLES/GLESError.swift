/// Why the GLES backend cannot start or draw: one line naming the call or file and what went wrong.
public struct GLESError: Error, CustomStringConvertible, Sendable, Equatable {
    public var description: String

    public init(_ description: String) {
        self.description = description.split(whereSeparator: \.isNewline).joined(separator: " | ")
    }
}
