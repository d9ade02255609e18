/// Reshape: the values stay in order, only the shape changes, so the op is a copy into the output buffer.
public enum Reshape {
    /// Plain scalar reference: element-by-element copy of `output.count` values.
    public static func reference(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>) {
        precondition(input.count >= output.count, "reshape: input smaller than output")
        for i in 0..<output.count { output[i] = input[i] }
    }

    /// Fast version: one memory move (the buffers must not overlap unless they are the same memory).
    public static func fast(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>) {
        precondition(input.count >= output.count, "reshape: input smaller than output")
        guard let src = input.baseAddress, let dst = output.baseAddress, src != UnsafePointer(dst) else { return }
        dst.update(from: src, count: output.count)
    }
}
