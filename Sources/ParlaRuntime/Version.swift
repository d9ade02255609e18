/// Parla's version, shown by `parla --version` and written into avatar files and video metadata.
public enum ParlaVersion {
    public static let string = "0.1.0"
}
