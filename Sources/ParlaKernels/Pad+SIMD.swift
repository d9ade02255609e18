extension Pad {
    /// Fast version of `reference` for tensors of rank 1...4 (higher ranks use the reference): zero-fills the
    /// output once, then copies each contiguous innermost row of the input with one memory move. Allocates
    /// nothing.
    public static func fast(input: UnsafeBufferPointer<Float>, inputShape: [Int], before: [Int], after: [Int],
                            output: UnsafeMutableBufferPointer<Float>) {
        let rank = inputShape.count
        guard rank >= 1, rank <= 4 else {
            reference(input: input, inputShape: inputShape, before: before, after: after, output: output)
            return
        }
        precondition(before.count == rank && after.count == rank, "pad: paddings do not match the input rank")
        // Right-align the shape in four dimensions (leading 1s, no padding).
        var shape = SIMD4<Int>(repeating: 1), lead = SIMD4<Int>(repeating: 0), trail = SIMD4<Int>(repeating: 0)
        for d in 0..<rank {
            precondition(before[d] >= 0 && after[d] >= 0, "pad: negative padding")
            shape[4 - rank + d] = inputShape[d]
            lead[4 - rank + d] = before[d]
            trail[4 - rank + d] = after[d]
        }
        let outShape = shape &+ lead &+ trail
        let inCount = shape[0] * shape[1] * shape[2] * shape[3]
        let outCount = outShape[0] * outShape[1] * outShape[2] * outShape[3]
        precondition(input.count >= inCount && output.count >= outCount, "pad: buffer too small")
        guard outCount > 0, let dst = output.baseAddress else { return }
        dst.update(repeating: 0, count: outCount)
        guard inCount > 0, let src = input.baseAddress else { return }
        let rowLength = shape[3]
        var row = 0
        for a in 0..<shape[0] {
            for b in 0..<shape[1] {
                for c in 0..<shape[2] {
                    let target = (((a + lead[0]) * outShape[1] + b + lead[1]) * outShape[2] + c + lead[2]) * outShape[3]
                        + lead[3]
                    (dst + target).update(from: src + row * rowLength, count: rowLength)
                    row += 1
                }
            }
        }
    }
}
