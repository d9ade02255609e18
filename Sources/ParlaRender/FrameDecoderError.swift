import Foundation

/// Why a frame decoder cannot be built or cannot draw a frame.
///
/// `description` is one line, `"<avatar or frame>: <what is wrong>"`, naming the avatar by its metadata
/// (`file`, `source` or `name`) when it has one.
public struct FrameDecoderError: Error, CustomStringConvertible, LocalizedError, Sendable, Equatable {
    /// What the problem is about: the avatar's name, `"output"` or `"motion frame"`.
    public var subject: String
    /// What is wrong, in one line, without the subject.
    public var problem: String

    /// Creates an error; line breaks in `problem` are folded so the description stays one line.
    public init(subject: String, problem: String) {
        self.subject = subject
        self.problem = problem.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// `"<subject>: <problem>"`.
    public var description: String { "\(subject): \(problem)" }

    /// Same as ``description``.
    public var errorDescription: String? { description }
}
