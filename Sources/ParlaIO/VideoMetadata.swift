/// What every file Parla writes says about itself: the machine-readable mark that the picture is synthetic.
public enum VideoMetadata {
    /// The prefix every mark starts with; tools test for it.
    public static let syntheticTag = "parla-synthetic"

    /// Stored in the MP4 `comment` tag and in `synthetic.txt` beside PNG frames. (A Y4M header has no room for it:
    /// it carries ``syntheticTag`` only.)
    public static func syntheticMark(version: String) -> String {
        "\(syntheticTag): AI-generated talking face (Parla \(version)); not a recording of a real person speaking"
    }
}
