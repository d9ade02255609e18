/// What every file Parla writes says about itself: the machine-readable mark that the picture is synthetic.
public enum VideoMetadata {
    /// Stored in the MP4 `comment` tag and as a Y4M `X` parameter; tools can test for the prefix `parla-synthetic`.
    public static func syntheticMark(version: String) -> String {
        "parla-synthetic: AI-generated talking face (Parla \(version)); not a recording of a real person speaking"
    }
}
