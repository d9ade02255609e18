extension Concat {
    /// Fast version of `reference`: for each outer index, one memory move per input slab. Allocates nothing.
    public static func fast(inputs: [UnsafeBufferPointer<Float>], shapes: [[Int]], axis: Int,
                            output: UnsafeMutableBufferPointer<Float>) {
        precondition(inputs.count == shapes.count && !shapes.isEmpty, "concat: one shape per input")
        let first = shapes[0]
        precondition(axis >= 0 && axis < first.count, "concat: axis out of range")
        var outAxis = 0
        for (buffer, shape) in zip(inputs, shapes) {
            precondition(shape.count == first.count, "concat: ranks differ")
            for d in 0..<shape.count where d != axis { precondition(shape[d] == first[d], "concat: shapes differ off the axis") }
            precondition(buffer.count >= shape.reduce(1, *), "concat: input too small")
            outAxis += shape[axis]
        }
        let inner = first[(axis + 1)...].reduce(1, *)
        let outerCount = first[..<axis].reduce(1, *)
        precondition(output.count >= outerCount * outAxis * inner, "concat: output too small")
        guard let dst = output.baseAddress else { return }
        var target = dst
        for outer in 0..<outerCount {
            for (buffer, shape) in zip(inputs, shapes) {
                let slab = shape[axis] * inner
                if slab > 0, let src = buffer.baseAddress {
                    target.update(from: src + outer * slab, count: slab)
                    target += slab
                }
            }
        }
    }
}
