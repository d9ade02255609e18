/// Padding rule of a sliding-window op (convolution, depthwise convolution, pooling).
public enum PaddingMode: Sendable, Equatable {
    /// TFLite SAME: output = ceil(input / stride); the smaller half of the padding goes before.
    case same
    /// No padding: output = (input - kernel) / stride + 1.
    case valid
    /// Given padding in input pixels.
    case explicit(top: Int, bottom: Int, left: Int, right: Int)
}

/// The geometry of a 2-D sliding window over an NHWC image (batch 1): input size, kernel, strides, padding.
public struct Window2D: Sendable, Equatable {
    /// Input rows.
    public let inputHeight: Int
    /// Input columns.
    public let inputWidth: Int
    /// Kernel (window) rows.
    public let kernelHeight: Int
    /// Kernel (window) columns.
    public let kernelWidth: Int
    /// Vertical step between windows, in input rows.
    public let strideY: Int
    /// Horizontal step between windows, in input columns.
    public let strideX: Int
    /// Virtual zero rows above the input.
    public let padTop: Int
    /// Virtual zero rows below the input.
    public let padBottom: Int
    /// Virtual zero columns left of the input.
    public let padLeft: Int
    /// Virtual zero columns right of the input.
    public let padRight: Int

    /// Output rows: (input + padding - kernel) / stride + 1.
    public var outputHeight: Int { (inputHeight + padTop + padBottom - kernelHeight) / strideY + 1 }
    /// Output columns: (input + padding - kernel) / stride + 1.
    public var outputWidth: Int { (inputWidth + padLeft + padRight - kernelWidth) / strideX + 1 }

    /// Resolves `padding` for the given sizes; nil if the window does not fit (no output, bad stride or padding).
    public init?(inputHeight: Int, inputWidth: Int, kernelHeight: Int, kernelWidth: Int,
                 strideY: Int, strideX: Int, padding: PaddingMode) {
        let limit = 1 << 24  // keeps every size computation far from overflow
        guard (1...limit).contains(inputHeight), (1...limit).contains(inputWidth), (1...limit).contains(kernelHeight),
              (1...limit).contains(kernelWidth), (1...limit).contains(strideY), (1...limit).contains(strideX) else {
            return nil
        }
        func samePadding(_ input: Int, _ kernel: Int, _ stride: Int) -> (Int, Int) {
            let output = (input + stride - 1) / stride
            let total = max((output - 1) * stride + kernel - input, 0)
            return (total / 2, total - total / 2)
        }
        var pads: (top: Int, bottom: Int, left: Int, right: Int)
        switch padding {
        case .valid: pads = (0, 0, 0, 0)
        case .same:
            let (t, b) = samePadding(inputHeight, kernelHeight, strideY)
            let (l, r) = samePadding(inputWidth, kernelWidth, strideX)
            pads = (t, b, l, r)
        case let .explicit(top, bottom, left, right):
            guard top >= 0, bottom >= 0, left >= 0, right >= 0, max(top, bottom, left, right) <= limit else { return nil }
            pads = (top, bottom, left, right)
        }
        // A window that lies wholly in the padding would read nothing; refuse padding >= kernel.
        guard pads.top < kernelHeight, pads.bottom < kernelHeight, pads.left < kernelWidth, pads.right < kernelWidth,
              inputHeight + pads.top + pads.bottom >= kernelHeight, inputWidth + pads.left + pads.right >= kernelWidth
        else { return nil }
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideY = strideY
        self.strideX = strideX
        self.padTop = pads.top
        self.padBottom = pads.bottom
        self.padLeft = pads.left
        self.padRight = pads.right
    }

    /// The kernel rows `ky` for which input row `oy * strideY + ky - padTop` is inside the image.
    @inlinable public func kernelRows(forOutputRow oy: Int) -> Range<Int> {
        let start = oy * strideY - padTop
        return max(0, -start)..<min(kernelHeight, inputHeight - start)
    }

    /// The kernel columns `kx` for which input column `ox * strideX + kx - padLeft` is inside the image.
    @inlinable public func kernelColumns(forOutputColumn ox: Int) -> Range<Int> {
        let start = ox * strideX - padLeft
        return max(0, -start)..<min(kernelWidth, inputWidth - start)
    }
}
