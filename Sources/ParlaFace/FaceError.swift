import Foundation

/// A problem in the face layer: no face in a picture, a missing or unusable face model, an avatar that cannot
/// be built, or an avatar file that cannot be read or written.
///
/// `description` is one line, `"<file>: <what is wrong>"`, ready to print as is.
public struct FaceError: Error, CustomStringConvertible, LocalizedError, Sendable, Equatable {
    /// What kind of problem this is, for callers that react differently (e.g. retry with another picture).
    public enum Kind: String, Sendable, Equatable {
        /// The detector or the mesh found no face.
        case noFace
        /// A face model is missing, unreadable or has unexpected inputs/outputs.
        case model
        /// The picture is unusable (empty, too small).
        case image
        /// The avatar cannot be built from this face (e.g. a folded face outline).
        case avatar
        /// An avatar file is corrupt, truncated, of another version, or cannot be written.
        case avatarFile
    }

    /// What kind of problem this is.
    public var kind: Kind
    /// The file (or picture name) the problem is about.
    public var file: String
    /// What is wrong, one line, without the file name.
    public var problem: String

    /// Creates an error; line breaks in `problem` are folded so the description stays one line.
    public init(_ kind: Kind, file: String, problem: String) {
        self.kind = kind
        self.file = file
        self.problem = problem.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// `"<file>: <problem>"`.
    public var description: String { "\(file): \(problem)" }

    /// Same as ``description``.
    public var errorDescription: String? { description }
}
