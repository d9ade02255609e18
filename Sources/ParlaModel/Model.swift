// INTERFACE PLACEHOLDER: the model helper replaces this file with the real reader and executor.
import Foundation
import ParlaKernels

/// A Parla model file loaded into memory (see docs/model-format.md).
public final class Model: @unchecked Sendable {
    public let name: String
    public let metadata: [String: String]
    public let inputShapes: [[Int]]
    public let outputShapes: [[Int]]

    public init(contentsOf url: URL) throws {
        fatalError("not yet")
    }
}

/// Runs a model's graph. One executor per thread; `run` reuses its buffers.
public final class Executor {
    public init(model: Model) throws { fatalError("not yet") }
    /// Inputs in the model's input order; returns outputs in the model's output order.
    public func run(_ inputs: [Tensor]) throws -> [Tensor] { fatalError("not yet") }
}
