import Model
import SafeTensors

/// What loading a checkpoint against its config finds (SPEC 2.1 gives every expected name and shape):
/// tensors missing, unexpected, of the wrong shape, renamed, transposed, converted or copied.
public struct LoadingReport: Codable, Sendable {
    public struct ShapeMismatch: Codable, Sendable, Equatable {
        public let name: String
        public let expected: [Int]
        public let actual: [Int]
    }

    public struct Renamed: Codable, Sendable, Equatable {
        public let stored: String
        public let canonical: String
    }

    /// The class the config names (architectures[0]), which decides whether lm heads or score are expected.
    public let architecture: String
    public let expected: Int
    public let found: Int
    public let missing: [String]
    public let unexpected: [String]
    public let shapeMismatches: [ShapeMismatch]
    /// Names mapped through `WeightNameTable` (bare model, Llama, Keras).
    public let renamed: [Renamed]
    /// Keras kernels transposed on load.
    public let transposed: [String]
    /// Tensors in a dtype other than the config's torch_dtype (converted when the model loads them).
    public let dtypeConverted: [String]
    /// Tensors that cannot be viewed in place and are copied (HDF5, transposed, or misaligned safetensors).
    public let copied: [String]

    enum CodingKeys: String, CodingKey {
        case architecture, expected, found, missing, unexpected, renamed, transposed, copied
        case shapeMismatches = "shape_mismatches"
        case dtypeConverted = "dtype_converted"
    }

    /// Loadable: nothing missing, nothing mis-shaped. Unexpected tensors are reported, not fatal (HF drops
    /// them too, e.g. the lm heads when a CausalLM file is loaded for classification).
    public var isLoadable: Bool { missing.isEmpty && shapeMismatches.isEmpty }

    public static func check(_ source: any WeightSource, config: PixelGPTConfig) -> LoadingReport {
        let architecture = config.architecture
        let specs = config.stateDictParameters
        let configDtype: DType? = switch config.torchDtype {
        case "float32": .f32
        case "float16": .f16
        case "bfloat16": .bf16
        default: nil
        }
        var byCanonical: [String: WeightInfo] = [:]
        var renamed: [Renamed] = []
        var unexpected: [String] = []
        for weight in source.weights {
            guard let match = WeightNameTable.canonical(weight.name) else {
                unexpected.append(weight.name)
                continue
            }
            if match.canonical != weight.name { renamed.append(Renamed(stored: weight.name, canonical: match.canonical)) }
            byCanonical[match.canonical] = weight
        }
        var missing: [String] = []
        var mismatches: [ShapeMismatch] = []
        let expectedNames = Set(specs.map(\.name))
        for spec in specs {
            guard let weight = byCanonical[spec.name] else {
                missing.append(spec.name)
                continue
            }
            if weight.shape != spec.shape { mismatches.append(ShapeMismatch(name: spec.name, expected: spec.shape, actual: weight.shape)) }
        }
        for (canonical, weight) in byCanonical where !expectedNames.contains(canonical) {
            unexpected.append(weight.name)
        }
        let weights = source.weights
        return LoadingReport(
            architecture: architecture, expected: specs.count, found: weights.count, missing: missing,
            unexpected: unexpected.sorted(), shapeMismatches: mismatches, renamed: renamed,
            transposed: weights.filter { $0.permutation != nil }.map(\.name),
            dtypeConverted: configDtype.map { target in weights.filter { $0.dtype.isFloatingPoint && $0.dtype != target }.map(\.name) } ?? [],
            copied: weights.filter { $0.storage != "safetensors" || $0.permutation != nil }.map(\.name)
                + misalignedSafeTensors(source))
    }

    /// Safetensors tensors whose offset is not a multiple of their element size cannot be viewed in place.
    static func misalignedSafeTensors(_ source: any WeightSource) -> [String] {
        guard let safetensors = source as? SafeTensorsWeights else { return [] }
        return safetensors.weights.compactMap { weight in
            guard let view = try? safetensors.tensors.tensor(named: weight.name) else { return nil }
            let aligned = view.withUnsafeBytes { Int(bitPattern: $0.baseAddress) % view.dtype.alignment == 0 }
            return aligned ? nil : weight.name
        }
    }

    /// The report as an error listing what is missing or mis-shaped, nil when loadable.
    public func failure(path: String) -> CheckpointError? {
        guard !isLoadable else { return nil }
        var parts: [String] = []
        if !missing.isEmpty { parts.append("\(missing.count) missing (\(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? ", ..." : ""))") }
        if !shapeMismatches.isEmpty {
            parts.append("\(shapeMismatches.count) mis-shaped (" + shapeMismatches.prefix(5).map { "\($0.name) is \($0.actual), config says \($0.expected)" }.joined(separator: "; ") + ")")
        }
        return CheckpointError(path: path, "tensors disagree with config.json (\(architecture)): " + parts.joined(separator: ", "))
    }
}
