import Checkpoints
import Foundation
import Numerics
import Support
import SafeTensors
@testable import Model

/// The committed golden fixtures (scripts/make_model_fixtures.py): checkpoints, inputs and the outputs the
/// numpy reference computed for them.
enum GoldenFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    struct Case: Decodable, CustomStringConvertible, Sendable {
        let checkpoint: String
        let `case`: String
        let description: String
        let outputs: [String]

        var directory: String { GoldenFixtures.root + "/" + checkpoint }
        var inputsPath: String { directory + "/" + self.case + ".inputs.safetensors" }
        var expectedPath: String { directory + "/" + self.case + ".expected.safetensors" }
        var name: String { checkpoint + "/" + self.case }
    }

    static func manifest() throws -> [Case] {
        let data = try Data(contentsOf: URL(fileURLWithPath: root + "/manifest.json"))
        return try JSONDecoder().decode([Case].self, from: data)
    }
}

/// A tensor read back from a safetensors file: F32 values, or I64 values for index tensors.
struct ReadTensor {
    let shape: [Int]
    let floats: [Float]
    let integers: [Int64]?
}

func readTensors(_ path: String) throws -> [String: ReadTensor] {
    let file = try SafeTensorsFile(path: path)
    var out: [String: ReadTensor] = [:]
    for name in file.tensorNames {
        let view = try file.tensor(named: name)
        if view.dtype == .i64 {
            let values = view.withUnsafeBytes { raw in (0..<view.info.elementCount).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self) } }
            out[name] = ReadTensor(shape: view.shape, floats: values.map(Float.init), integers: values)
        } else {
            out[name] = ReadTensor(shape: view.shape, floats: try view.float32Values(), integers: nil)
        }
    }
    return out
}

/// The forward contract's output tensors of `output`: the records `pixelgpt forward` writes, decoded.
func contractTensors(_ output: ForwardOutput, inputs: ForwardInputs) -> [String: ReadTensor] {
    var out: [String: ReadTensor] = [:]
    for record in ForwardContract.outputRecords(output, inputs: inputs) {
        switch record.payload {
        case .float32(let values):
            out[record.name] = ReadTensor(shape: record.shape, floats: values, integers: nil)
        case .bytes(let bytes) where record.dtype == .i64:
            let values = bytes.withUnsafeBytes { raw in (0..<record.elementCount).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self) } }
            out[record.name] = ReadTensor(shape: record.shape, floats: values.map(Float.init), integers: values)
        default:
            preconditionFailure("unexpected payload for \(record.name)")
        }
    }
    return out
}

/// max |a − b| / max |b|, the agreement measure of the numerics contract (docs/numerics.md).
func relativeError(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    var diff: Double = 0, scale: Double = 0
    for i in a.indices {
        diff = max(diff, abs(Double(a[i]) - Double(b[i])))
        scale = max(scale, abs(Double(b[i])))
    }
    return scale == 0 ? diff : diff / scale
}

/// Deterministic pseudo-random floats for kernel tests (SplitMix64, uniform in [-1, 1)).
struct TestRandom {
    var generator: SplitMix64

    init(state: UInt64) { generator = SplitMix64(state: state) }

    mutating func next() -> Float {
        Float(Double(generator.next() >> 11) / 9_007_199_254_740_992.0 * 2 - 1)
    }

    mutating func array(_ count: Int, scale: Float = 1) -> [Float] { (0..<count).map { _ in next() * scale } }
}
