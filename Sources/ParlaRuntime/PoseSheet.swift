import Foundation
import ParlaFace
import ParlaMedia
import ParlaMotion
import ParlaRender

/// A sheet of example frames in fixed poses and mouth shapes, for looking at the decoder (the README's strip):
/// `parla poses`.
public enum PoseSheet {
    /// The poses, left to right: what a person checks first (mouth closed and open, rounded lips, a blink, the head
    /// turned both ways and nodding), each with a little expression so no two look alike.
    public static let poses: [(name: String, frame: MotionFrame)] = {
        let degree = Float.pi / 180
        func pose(_ weights: [(Blendshape, Float)], yaw: Float = 0, pitch: Float = 0) -> MotionFrame {
            var frame = MotionFrame(time: 0)
            for (shape, weight) in weights { frame.blendshapes[shape] = weight }
            frame.headYaw = yaw * degree
            frame.headPitch = pitch * degree
            return frame
        }
        return [
            ("closed", pose([])),
            ("open vowel", pose([(.jawOpen, 0.65), (.mouthStretchLeft, 0.2), (.mouthStretchRight, 0.2)])),
            ("rounded", pose([(.jawOpen, 0.25), (.mouthFunnel, 0.7), (.mouthPucker, 0.5)])),
            ("blink", pose([(.eyeBlinkLeft, 1), (.eyeBlinkRight, 1), (.mouthSmileLeft, 0.4), (.mouthSmileRight, 0.4)])),
            ("yaw left", pose([(.jawOpen, 0.35)], yaw: -15)),
            ("yaw right", pose([(.jawOpen, 0.35)], yaw: 15)),
            ("pitch down", pose([(.jawOpen, 0.5)], pitch: 10)),
            ("pitch up", pose([(.jawOpen, 0.2)], pitch: -10)),
        ]
    }()

    /// White space between the tiles, pixels.
    public static let padding = 4

    /// Top-left corner of pose `k`'s tile on a sheet of `columns` tiles a row, each `width × height`.
    public static func origin(of k: Int, columns: Int, width: Int, height: Int) -> (x: Int, y: Int) {
        ((k % columns) * (width + padding), (k / columns) * (height + padding))
    }

    /// The poses drawn by `decoder`, `columns` a row, left to right and top to bottom, on white.
    public static func render(with decoder: FrameDecoder, columns: Int = 4) throws -> RGBAImage {
        let w = decoder.width, h = decoder.height
        let columns = max(1, min(columns, poses.count)), rows = (poses.count + columns - 1) / columns
        var sheet = RGBAImage(width: columns * w + (columns - 1) * padding, height: rows * h + (rows - 1) * padding,
                              fill: (255, 255, 255, 255))
        var frame = RGBAImage(width: w, height: h)
        for (k, pose) in poses.enumerated() {
            try decoder.decode(pose.frame, into: &frame)
            let (x0, y0) = origin(of: k, columns: columns, width: w, height: h)
            for y in 0..<h {
                let source = y * w * 4, target = ((y0 + y) * sheet.width + x0) * 4
                sheet.pixels.replaceSubrange(target..<(target + w * 4), with: frame.pixels[source..<(source + w * 4)])
            }
        }
        return sheet
    }
}
