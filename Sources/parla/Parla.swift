import ArgumentParser
import Foundation
import ParlaRuntime

@main
struct Parla: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parla",
        abstract: "Turn one portrait and speech into a talking face.",
        version: ParlaVersion.string,
        subcommands: [Prepare.self, Render.self, Poses.self, Landmarks.self, Mask.self, Live.self, Say.self, Serve.self, Bench.self]
    )
}

/// Runs a subcommand body and turns any error into one line on stderr and exit status 1.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        let text = String(describing: error)
        FileHandle.standardError.write(Data("parla: error: \(text)\n".utf8))
        throw ExitCode.failure
    }
}

/// Prints `value` as pretty, key-sorted JSON on stdout.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    FileHandle.standardOutput.write(try encoder.encode(value))
    FileHandle.standardOutput.write(Data("\n".utf8))
}
