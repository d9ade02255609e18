/// Frame rates as exact fractions for container headers.
public enum FrameRate {
    /// `fps` as numerator/denominator: integers over 1, NTSC-style rates (29.97, 59.94, 23.976) over 1001,
    /// anything else to a thousandth.
    public static func fraction(_ fps: Double) -> (Int, Int) {
        if fps == fps.rounded() { return (Int(fps), 1) }
        let ntsc = (fps * 1001 / 1000).rounded() * 1000
        if abs(ntsc / 1001 - fps) < 1e-3 { return (Int(ntsc), 1001) }
        let num = Int((fps * 1000).rounded())
        var a = num, b = 1000
        while b != 0 { (a, b) = (b, a % b) }
        return (num / a, 1000 / a)
    }
}
