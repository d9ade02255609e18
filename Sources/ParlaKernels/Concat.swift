/// Concatenation of tensors along one axis; all other dimensions must agree.
public enum Concat {
    /// The concatenated shape, or nil if the ranks or the non-axis dimensions differ or the axis is out of range.
    public static func outputShape(inputs shapes: [[Int]], axis: Int) -> [Int]? {
        guard let first = shapes.first, axis >= 0, axis < first.count else { return nil }
        var result = first
        result[axis] = 0
        for shape in shapes {
            guard shape.count == first.count else { return nil }
            for d in 0..<shape.count where d != axis && shape[d] != first[d] { return nil }
            result[axis] += shape[axis]
        }
        return result
    }

    /// Plain scalar reference: for every output element, find the input and position it came from.
    public static func reference(inputs: [UnsafeBufferPointer<Float>], shapes: [[Int]], axis: Int,
                                 output: UnsafeMutableBufferPointer<Float>) {
        let outShape = checkSizes(inputs: inputs, shapes: shapes, axis: axis, output: output.count)
        let inner = outShape[(axis + 1)...].reduce(1, *)
        let outAxis = outShape[axis]
        for index in 0..<outShape.reduce(1, *) {
            let outer = index / (outAxis * inner)
            var position = index / inner % outAxis
            let offset = index % inner
            for (k, shape) in shapes.enumerated() {
                if position < shape[axis] {
                    output[index] = inputs[k][(outer * shape[axis] + position) * inner + offset]
                    break
                }
                position -= shape[axis]
            }
        }
    }

    static func checkSizes(inputs: [UnsafeBufferPointer<Float>], shapes: [[Int]], axis: Int, output: Int) -> [Int] {
        precondition(inputs.count == shapes.count, "concat: one shape per input")
        guard let outShape = outputShape(inputs: shapes, axis: axis) else {
            preconditionFailure("concat: shapes do not agree off the axis")
        }
        for (buffer, shape) in zip(inputs, shapes) { precondition(buffer.count >= shape.reduce(1, *), "concat: input too small") }
        precondition(output >= outShape.reduce(1, *), "concat: output too small")
        return outShape
    }
}
