import ArgumentParser
import ParlaRuntime

@main
struct Parla: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parla",
        abstract: "Turn one portrait and speech into a talking face.",
        version: ParlaVersion.string
    )
}
