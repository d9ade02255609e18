import ArgumentParser
import ParlaFace

extension ModelPrecision: ExpressibleByArgument {}

/// `--precision` and `--threads`, shared by every subcommand that runs the face models.
struct ModelOptions: ParsableArguments {
    @Option(help: "Face model precision: int8 (default, quantized) or fp32 (the float reference).")
    var precision: ModelPrecision = .int8

    @Option(help: "Threads each model convolution is split over (default 1).")
    var threads: Int = 1

    func validate() throws {
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be in 1...64, not \(threads)") }
    }
}
