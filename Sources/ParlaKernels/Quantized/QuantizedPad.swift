/// Int8 constant padding of a tensor of any rank with one value (the zero point): dimension d gets `before[d]`
/// values in front and `after[d]` behind. Input and output share scale and zero point.
public enum QuantizedPad {
    /// Plain scalar reference: for every output element, copy the input element it came from or write `value`.
    public static func reference(input: UnsafeBufferPointer<Int8>, inputShape: [Int], before: [Int], after: [Int],
                                 value: Int8, output: UnsafeMutableBufferPointer<Int8>) {
        let outShape = Pad.checkSizes(input: input.count, inputShape: inputShape, before: before, after: after,
                                      output: output.count)
        let rank = inputShape.count
        for index in 0..<outShape.reduce(1, *) {
            var rest = index
            var coordinate = [Int](repeating: 0, count: rank)
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
            output[index] = inside ? input[source] : value
        }
    }

    /// Fast padding, bit-exact with `reference`. A pad of the innermost dimension only (BlazeFace's channel pad
    /// on its residual branch, e.g. 24 → 28 channels) writes each output row with 16-byte stores; other pads fill
    /// the output and copy each innermost row.
    public static func fast(input: UnsafeBufferPointer<Int8>, inputShape: [Int], before: [Int], after: [Int],
                            value: Int8, output: UnsafeMutableBufferPointer<Int8>) {
        let outShape = Pad.checkSizes(input: input.count, inputShape: inputShape, before: before, after: after,
                                      output: output.count)
        let rank = inputShape.count
        guard rank > 0 else {
            if !output.isEmpty { output[0] = input[0] }
            return
        }
        let row = inputShape[rank - 1]
        let rows = inputShape.reduce(1, *) / max(row, 1)
        guard rows > 0, row > 0, let x = input.baseAddress, let y = output.baseAddress else {
            output.update(repeating: value)
            return
        }
        if (0..<(rank - 1)).allSatisfy({ before[$0] == 0 && after[$0] == 0 }) {
            padRows(x, rows: rows, row: row, before: before[rank - 1], after: after[rank - 1], value: value, output: y)
            return
        }
        output.update(repeating: value)
        var outStrides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { outStrides[d] = outStrides[d + 1] * outShape[d + 1] }
        var index = [Int](repeating: 0, count: rank)
        for r in 0..<rows {
            var offset = before[rank - 1]
            for d in 0..<(rank - 1) { offset += (index[d] + before[d]) * outStrides[d] }
            (y + offset).update(from: x + r * row, count: row)
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                if index[d] < inputShape[d] { break }
                index[d] = 0
                d -= 1
            }
        }
    }

    /// `rows` rows of `row` values, each written as `before` fill values, the row, `after` fill values. Rows are
    /// written in order with whole 16-byte stores (fill, then the row, then fill), each store's spill past its part
    /// overwritten by the next part or the next row; the last rows, whose stores or loads would leave the buffers,
    /// go value by value.
    private static func padRows(_ x: UnsafePointer<Int8>, rows: Int, row: Int, before: Int, after: Int, value: Int8,
                                output y: UnsafeMutablePointer<Int8>) {
        let outRow = before + row + after
        let fill = SIMD16<Int8>(repeating: value)
        let rowChunks = (row + 15) / 16 * 16
        let writeExtent = max((before + 15) / 16 * 16, before + rowChunks, before + row + (after + 15) / 16 * 16)
        // Rows r < vectorRows keep their stores inside the output and their loads inside the input.
        let byOutput = (rows * outRow - writeExtent) / outRow + 1
        let byInput = (rows * row - rowChunks) / row + 1
        let vectorRows = max(0, min(rows, rows * outRow >= writeExtent ? byOutput : 0, rows * row >= rowChunks ? byInput : 0))
        for r in 0..<vectorRows {
            let out = UnsafeMutableRawPointer(y + r * outRow)
            let source = UnsafeRawPointer(x + r * row)
            var i = 0
            while i < before { out.storeBytes(of: fill, toByteOffset: i, as: SIMD16<Int8>.self); i += 16 }
            i = 0
            while i < row {
                out.storeBytes(of: source.loadUnaligned(fromByteOffset: i, as: SIMD16<Int8>.self),
                               toByteOffset: before + i, as: SIMD16<Int8>.self)
                i += 16
            }
            i = before + row
            while i < outRow { out.storeBytes(of: fill, toByteOffset: i, as: SIMD16<Int8>.self); i += 16 }
        }
        for r in vectorRows..<rows {
            let out = y + r * outRow
            out.update(repeating: value, count: before)
            (out + before).update(from: x + r * row, count: row)
            (out + before + row).update(repeating: value, count: after)
        }
    }
}
