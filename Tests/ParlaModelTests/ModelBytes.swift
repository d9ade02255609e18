import Foundation
import ParlaModel

/// Crafts `.pmdl` bytes in the tests (no writer in the library): a JSON graph as plain dictionaries, constants
/// placed 64-byte aligned, and a sealed header.
struct ModelBytes {
    var name = "tiny"
    var metadata: [String: String] = ["license": "test", "input.mean": "0", "input.std": "1"]
    var tensors: [[String: Any]] = []
    var ops: [[String: Any]] = []
    var inputs: [Int] = []
    var outputs: [Int] = []
    var data: [UInt8] = []
    /// Extra top-level JSON keys (to check that readers ignore unknown fields).
    var extra: [String: Any] = [:]

    /// Adds an activation tensor and returns its index.
    mutating func activation(_ name: String, _ shape: [Int]) -> Int {
        tensors.append(["name": name, "shape": shape, "dtype": "f32"])
        return tensors.count - 1
    }

    /// Adds a constant tensor with `values` and returns its index.
    mutating func constant(_ name: String, _ shape: [Int], _ values: [Float]) -> Int {
        while data.count % 64 != 0 { data.append(0) }
        let offset = data.count
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data += $0 } }
        tensors.append(["name": name, "shape": shape, "dtype": "f32", "offset": offset, "length": values.count * 4])
        return tensors.count - 1
    }

    /// Adds an i8 or i32 constant (raw little-endian bytes) with quantization parameters; returns its index.
    mutating func quantizedConstant(_ name: String, _ shape: [Int], dtype: String, bytes: [UInt8], scales: [Float],
                                    zeroPoints: [Int], axis: Int?) -> Int {
        while data.count % 64 != 0 { data.append(0) }
        var entry: [String: Any] = ["name": name, "shape": shape, "dtype": dtype, "offset": data.count,
                                    "length": bytes.count, "scales": scales.map(Double.init), "zeroPoints": zeroPoints]
        if let axis { entry["quantizedAxis"] = axis }
        data += bytes
        tensors.append(entry)
        return tensors.count - 1
    }

    /// Adds an int8 activation with one scale and zero point; returns its index.
    mutating func int8Activation(_ name: String, _ shape: [Int], scale: Float, zeroPoint: Int) -> Int {
        tensors.append(["name": name, "shape": shape, "dtype": "i8", "scales": [Double(scale)], "zeroPoints": [zeroPoint]])
        return tensors.count - 1
    }

    /// Adds an op.
    mutating func op(_ type: String, _ inputs: [Int], _ outputs: [Int], _ attributes: [String: Any] = [:]) {
        ops.append(["type": type, "inputs": inputs, "outputs": outputs, "attributes": attributes])
    }

    /// The JSON section's bytes.
    func json() -> [UInt8] {
        var document: [String: Any] = ["name": name, "metadata": metadata, "tensors": tensors, "ops": ops,
                                       "inputs": inputs, "outputs": outputs]
        for (key, value) in extra { document[key] = value }
        return [UInt8](try! JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]))
    }

    /// The whole file with a correct header for the given JSON (default: `json()`).
    func encoded(json customJSON: [UInt8]? = nil, version: UInt32 = 1) -> [UInt8] {
        ModelBytes.seal(json: customJSON ?? json(), data: data, version: version)
    }

    /// Header + JSON + zero padding + data, with correct offsets and checksums.
    static func seal(json: [UInt8], data: [UInt8], version: UInt32 = 1) -> [UInt8] {
        let dataOffset = (64 + json.count + 63) / 64 * 64
        let header = ModelFileHeader(formatVersion: version, jsonOffset: 64, jsonLength: UInt64(json.count),
                                     dataOffset: UInt64(dataOffset), dataLength: UInt64(data.count),
                                     jsonCRC32: CRC32.checksum(json), dataCRC32: CRC32.checksum(data))
        return header.encoded() + json + [UInt8](repeating: 0, count: dataOffset - 64 - json.count) + data
    }

    /// A small valid graph: conv2d 3×3 (SAME, stride 1, 3→2 channels, bias) → prelu → reshape [1, 40].
    static func tiny(weights: [Float], bias: [Float], slopes: [Float]) -> ModelBytes {
        var m = ModelBytes()
        let x = m.activation("image", [1, 5, 4, 3])
        let w = m.constant("conv/weights", [2, 3, 3, 3], weights)
        let b = m.constant("conv/bias", [2], bias)
        let c = m.activation("conv", [1, 5, 4, 2])
        let s = m.constant("prelu/slopes", [1, 1, 2], slopes)
        let p = m.activation("prelu", [1, 5, 4, 2])
        let r = m.activation("flat", [1, 40])
        m.op("conv2d", [x, w, b], [c], ["strides": [1, 1], "padding": "same", "activation": "none"])
        m.op("prelu", [c, s], [p])
        m.op("reshape", [p], [r], ["shape": [1, 40]])
        m.inputs = [x]
        m.outputs = [r]
        return m
    }
}
