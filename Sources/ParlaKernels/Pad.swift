/// Constant (zero) padding of a tensor of any rank: dimension d gets `before[d]` zeros in front and
/// `after[d]` behind.
public enum Pad {
    /// The padded shape, or nil if a padding is negative or the shape and paddings differ in rank.
    public static func outputShape(input shape: [Int], before: [Int], after: [Int]) -> [Int]? {
        guard shape.count == before.count, shape.count == after.count,
              before.allSatisfy({ $0 >= 0 }), after.allSatisfy({ $0 >= 0 }) else { return nil }
        return (0..<shape.count).map { shape[$0] + before[$0] + after[$0] }
    }

    /// Plain scalar reference: for every output element, copy the input element it came from or write 0.
    public static func reference(input: UnsafeBufferPointer<Float>, inputShape: [Int], before: [Int], after: [Int],
                                 output: UnsafeMutableBufferPointer<Float>) {
        let outShape = checkSizes(input: input.count, inputShape: inputShape, before: before, after: after,
                                  output: output.count)
        let rank = inputShape.count
        var coordinate = [Int](repeating: 0, count: rank)
        for index in 0..<outShape.reduce(1, *) {
            var rest = index
            for d in stride(from: rank - 1, through: 0, by: -1) {
                coordinate[d] = rest % outShape[d]
                rest /= outShape[d]
            }
            var source = 0
            var inside = true
            for d in 0..<rank {
                let c = coordinate[d] - before[d]
                if c < 0 || c >= inputShape[d] { inside = false; break }
                source = source * inputShape[d] + c
            }
            output[index] = inside ? input[source] : 0
        }
    }

    static func checkSizes(input: Int, inputShape: [Int], before: [Int], after: [Int], output: Int) -> [Int] {
        guard let outShape = outputShape(input: inputShape, before: before, after: after) else {
            preconditionFailure("pad: paddings do not match the input rank or are negative")
        }
        precondition(input >= inputShape.reduce(1, *), "pad: input too small")
        precondition(output >= outShape.reduce(1, *), "pad: output too small")
        return outShape
    }
}
