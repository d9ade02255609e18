import Foundation

/// Why a model file was refused or a run failed: one line naming the file (or model) and the problem,
/// e.g. `face_landmark.pmdl: checksum mismatch (file damaged)`.
public struct ModelError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// The file name (last path component) or model name the problem is about.
    public let file: String
    /// What is wrong, without the file name.
    public let problem: String

    /// Creates an error about `file` (a path is shortened to its last component).
    public init(file: String, problem: String) {
        self.file = (file as NSString).lastPathComponent
        self.problem = problem
    }

    /// `file: problem`, one line.
    public var description: String { "\(file): \(problem)" }
    /// Same as `description`.
    public var errorDescription: String? { description }
}
