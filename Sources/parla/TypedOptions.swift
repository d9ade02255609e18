/// The long option names typed on the command line ("--size 384" and "--size=384" both give "size"), so a board
/// profile fills in only what the user left out.
func typedLongOptions(_ arguments: [String] = CommandLine.arguments) -> Set<String> {
    var names = Set<String>()
    for arg in arguments.dropFirst() {
        if arg == "--" { break }
        guard arg.hasPrefix("--"), arg.count > 2 else { continue }
        names.insert(String(arg.dropFirst(2).prefix { $0 != "=" }))
    }
    return names
}
