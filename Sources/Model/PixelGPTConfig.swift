import Foundation

/// `ErniePixelConfig` (model_type "ernie-pixel"), decoded from config.json with the upstream key names and
/// code defaults (SPEC 1.1). Keys it does not model are ignored here; converting a checkpoint copies
/// config.json as a file, so they are never lost.
public struct PixelGPTConfig: Codable, Equatable, Sendable {
    public var modelType: String = "ernie-pixel"
    public var architectures: [String]? = ["ErniePixelForCausalLM"]
    public var vocabSize: Int = 32000
    public var hiddenSize: Int = 4096
    public var intermediateSize: Int = 11008
    public var numHiddenLayers: Int = 32
    public var numAttentionHeads: Int = 32
    /// nil falls back to `numAttentionHeads` (SPEC 1.1).
    public var numKeyValueHeads: Int?
    public var hiddenAct: String = "silu"
    public var maxPositionEmbeddings: Int = 2048
    public var imageSize: [Int] = [16, 16384]
    public var patchSize: Int = 16
    public var numChannels: Int = 3
    public var initializerRange: Double = 0.02
    /// The code default is 1e-6; the released checkpoints say 1e-5 (SPEC 1.2, 11.1).
    public var rmsNormEps: Double = 1e-6
    public var useCache: Bool = true
    public var padTokenId: Int?
    public var bosTokenId: Int = 1
    public var eosTokenId: Int = 2
    public var pretrainingTp: Int = 1
    public var tieWordEmbeddings: Bool = false
    public var ropeTheta: Double = 10000
    public var ropeScaling: RopeScaling?
    public var attentionBias: Bool = false
    public var attentionDropout: Double = 0
    public var normPixLoss: Bool = true
    /// Set for classification heads; HF writes id2label/label2id and derives num_labels from them.
    public var numLabels: Int?
    public var id2label: [String: String]?
    public var label2id: [String: Int]?
    /// "regression" (STS-B, num_labels 1) or "single_label_classification" (SPEC 4).
    public var problemType: String?
    public var torchDtype: String?
    public var transformersVersion: String?

    public struct RopeScaling: Codable, Equatable, Sendable {
        public var type: String
        public var factor: Double
    }

    public init() {}

    public var keyValueHeads: Int { numKeyValueHeads ?? numAttentionHeads }
    /// `model_type` as a known family. `validate` refuses the others (every model and loader validates),
    /// so the ErniePixel fallback never applies to a config in use.
    public var family: ModelFamily { ModelFamily(rawValue: modelType) ?? .erniePixel }
    public var headDimension: Int { hiddenSize / numAttentionHeads }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case modelType = "model_type", architectures
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads", hiddenAct = "hidden_act"
        case maxPositionEmbeddings = "max_position_embeddings", imageSize = "image_size", patchSize = "patch_size"
        case numChannels = "num_channels", initializerRange = "initializer_range", rmsNormEps = "rms_norm_eps"
        case useCache = "use_cache", padTokenId = "pad_token_id", bosTokenId = "bos_token_id", eosTokenId = "eos_token_id"
        case pretrainingTp = "pretraining_tp", tieWordEmbeddings = "tie_word_embeddings", ropeTheta = "rope_theta"
        case ropeScaling = "rope_scaling", attentionBias = "attention_bias", attentionDropout = "attention_dropout"
        case normPixLoss = "norm_pix_loss", numLabels = "num_labels", torchDtype = "torch_dtype"
        case id2label, label2id, problemType = "problem_type"
        case transformersVersion = "transformers_version"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = PixelGPTConfig()
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try c.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        modelType = try value(.modelType, d.modelType)
        architectures = try c.decodeIfPresent([String].self, forKey: .architectures)
        vocabSize = try value(.vocabSize, d.vocabSize)
        hiddenSize = try value(.hiddenSize, d.hiddenSize)
        intermediateSize = try value(.intermediateSize, d.intermediateSize)
        numHiddenLayers = try value(.numHiddenLayers, d.numHiddenLayers)
        numAttentionHeads = try value(.numAttentionHeads, d.numAttentionHeads)
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads)
        hiddenAct = try value(.hiddenAct, d.hiddenAct)
        maxPositionEmbeddings = try value(.maxPositionEmbeddings, d.maxPositionEmbeddings)
        imageSize = try value(.imageSize, d.imageSize)
        patchSize = try value(.patchSize, d.patchSize)
        numChannels = try value(.numChannels, d.numChannels)
        initializerRange = try value(.initializerRange, d.initializerRange)
        rmsNormEps = try value(.rmsNormEps, d.rmsNormEps)
        useCache = try value(.useCache, d.useCache)
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId)
        bosTokenId = try value(.bosTokenId, d.bosTokenId)
        eosTokenId = try value(.eosTokenId, d.eosTokenId)
        pretrainingTp = try value(.pretrainingTp, d.pretrainingTp)
        tieWordEmbeddings = try value(.tieWordEmbeddings, d.tieWordEmbeddings)
        ropeTheta = try value(.ropeTheta, d.ropeTheta)
        ropeScaling = try c.decodeIfPresent(RopeScaling.self, forKey: .ropeScaling)
        attentionBias = try value(.attentionBias, d.attentionBias)
        attentionDropout = try value(.attentionDropout, d.attentionDropout)
        normPixLoss = try value(.normPixLoss, d.normPixLoss)
        id2label = try c.decodeIfPresent([String: String].self, forKey: .id2label)
        label2id = try c.decodeIfPresent([String: Int].self, forKey: .label2id)
        numLabels = try c.decodeIfPresent(Int.self, forKey: .numLabels) ?? id2label?.count
        problemType = try c.decodeIfPresent(String.self, forKey: .problemType)
        torchDtype = try c.decodeIfPresent(String.self, forKey: .torchDtype)
        transformersVersion = try c.decodeIfPresent(String.self, forKey: .transformersVersion)
    }

    /// Writes the upstream keys; absent optionals are omitted except rope_scaling, which the released
    /// config.json spells out as null (SPEC 1.2).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(modelType, forKey: .modelType)
        try c.encodeIfPresent(architectures, forKey: .architectures)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encodeIfPresent(numKeyValueHeads, forKey: .numKeyValueHeads)
        try c.encode(hiddenAct, forKey: .hiddenAct)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encode(imageSize, forKey: .imageSize)
        try c.encode(patchSize, forKey: .patchSize)
        try c.encode(numChannels, forKey: .numChannels)
        try c.encode(initializerRange, forKey: .initializerRange)
        try c.encode(rmsNormEps, forKey: .rmsNormEps)
        try c.encode(useCache, forKey: .useCache)
        try c.encodeIfPresent(padTokenId, forKey: .padTokenId)
        try c.encode(bosTokenId, forKey: .bosTokenId)
        try c.encode(eosTokenId, forKey: .eosTokenId)
        try c.encode(pretrainingTp, forKey: .pretrainingTp)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        if let ropeScaling { try c.encode(ropeScaling, forKey: .ropeScaling) } else { try c.encodeNil(forKey: .ropeScaling) }
        try c.encode(attentionBias, forKey: .attentionBias)
        try c.encode(attentionDropout, forKey: .attentionDropout)
        try c.encode(normPixLoss, forKey: .normPixLoss)
        try c.encodeIfPresent(numLabels, forKey: .numLabels)
        try c.encodeIfPresent(id2label, forKey: .id2label)
        try c.encodeIfPresent(label2id, forKey: .label2id)
        try c.encodeIfPresent(problemType, forKey: .problemType)
        try c.encodeIfPresent(torchDtype, forKey: .torchDtype)
        try c.encodeIfPresent(transformersVersion, forKey: .transformersVersion)
    }

    /// Decodes config.json and refuses shapes the model cannot have, naming the key.
    public static func decode(json: Data) throws -> PixelGPTConfig {
        let config = try JSONDecoder().decode(PixelGPTConfig.self, from: json)
        try config.validate()
        return config
    }

    public struct InvalidConfig: Error, CustomStringConvertible {
        public let key: String
        public let reason: String
        public var description: String { "config key \"\(key)\": \(reason)" }
    }

    public func validate() throws {
        func require(_ ok: Bool, _ key: CodingKeys, _ reason: String) throws {
            if !ok { throw InvalidConfig(key: key.rawValue, reason: reason) }
        }
        typealias L = ResourceLimits
        try require(ModelFamily(rawValue: modelType) != nil, .modelType, "\"\(modelType)\" is not a known model type (known: \(ModelFamily.known))")
        // Upper bounds first: every size below is multiplied, and a few bytes of config must not be able
        // to make a command allocate without end (ResourceLimits).
        func within(_ value: Int, _ limit: Int, _ key: CodingKeys, _ name: String, released: String) throws {
            try require(value <= limit, key, "\(value) exceeds the limit of \(limit) (ResourceLimits.\(name); the released model: \(released))")
        }
        try require(vocabSize > 0, .vocabSize, "must be positive, is \(vocabSize)")
        try within(vocabSize, L.maxVocabulary, .vocabSize, "maxVocabulary", released: "32000")
        try require(hiddenSize > 0, .hiddenSize, "must be positive, is \(hiddenSize)")
        try within(hiddenSize, L.maxHiddenSize, .hiddenSize, "maxHiddenSize", released: "1024")
        try require(intermediateSize > 0, .intermediateSize, "must be positive, is \(intermediateSize)")
        try within(intermediateSize, L.maxIntermediateSize, .intermediateSize, "maxIntermediateSize", released: "2816")
        try require(numHiddenLayers >= 0, .numHiddenLayers, "must not be negative, is \(numHiddenLayers)")
        try within(numHiddenLayers, L.maxLayers, .numHiddenLayers, "maxLayers", released: "24")
        try require(maxPositionEmbeddings > 0, .maxPositionEmbeddings, "must be positive, is \(maxPositionEmbeddings)")
        try within(maxPositionEmbeddings, L.maxSequenceLength, .maxPositionEmbeddings, "maxSequenceLength", released: "1024")
        try require(ropeTheta > 0 && ropeTheta.isFinite, .ropeTheta, "must be a positive finite number, is \(ropeTheta)")
        try require(numAttentionHeads > 0 && hiddenSize % numAttentionHeads == 0, .numAttentionHeads,
                    "must divide hidden_size \(hiddenSize), is \(numAttentionHeads)")
        try require(keyValueHeads > 0 && numAttentionHeads % keyValueHeads == 0, .numKeyValueHeads,
                    "must divide num_attention_heads \(numAttentionHeads), is \(keyValueHeads)")
        try require(headDimension % 2 == 0, .numAttentionHeads, "head dimension \(headDimension) must be even for RoPE")
        try require(numChannels == 3, .numChannels, "must be 3 (RGB), is \(numChannels)")
        try require(patchSize > 0 && patchSize <= 4096, .patchSize, "must be 1 to 4096, is \(patchSize)")
        if let numLabels {
            try require(numLabels >= 1, .numLabels, "must be at least 1, is \(numLabels)")
            try within(numLabels, L.maxVocabulary, .numLabels, "maxVocabulary", released: "3 classes (XNLI)")
        }
        // The largest tensors, [rows, hidden_size], each named by the key that sets its rows.
        for (rows, key) in [(vocabSize, CodingKeys.vocabSize), (intermediateSize, .intermediateSize),
                            (patchSize * patchSize * numChannels, .patchSize), (numLabels ?? 1, .numLabels)] {
            let elements = L.product([rows, hiddenSize])
            try require(elements.map { $0 <= L.maxElementsPerTensor } ?? false, key,
                        "a [\(rows), \(hiddenSize)] weight exceeds the limit of \(L.maxElementsPerTensor) elements per tensor (ResourceLimits.maxElementsPerTensor; the released model's largest has 32,768,000)")
        }
        try require(rmsNormEps > 0, .rmsNormEps, "must be positive, is \(rmsNormEps)")
        try require(hiddenAct == "silu", .hiddenAct, "only \"silu\" is supported, is \"\(hiddenAct)\"")
        if let s = ropeScaling {
            try require(s.type == "linear" || s.type == "dynamic", .ropeScaling, "type must be \"linear\" or \"dynamic\", is \"\(s.type)\"")
            try require(s.factor > 1, .ropeScaling, "factor must be > 1, is \(s.factor)")
        }
    }

    /// Sizes for random-weight checkpoints in the released layout (demos, tests, benchmarks). `base` is the
    /// released configuration (SPEC 1.2, 350,277,632 parameters); the others shrink it but keep the
    /// Llama-2 vocabulary, so that every preset runs with the real tokenizer.
    public enum Preset: String, CaseIterable, Sendable {
        case tiny, small, base
    }

    public static func preset(_ preset: Preset) -> PixelGPTConfig {
        var c = PixelGPTConfig()
        c.vocabSize = 32000
        c.maxPositionEmbeddings = 1024
        c.rmsNormEps = 1e-5
        c.torchDtype = "float32"
        c.transformersVersion = "4.36.2"
        switch preset {
        case .tiny:
            (c.hiddenSize, c.intermediateSize, c.numHiddenLayers, c.numAttentionHeads, c.numKeyValueHeads) = (64, 176, 2, 4, 2)
        case .small:
            (c.hiddenSize, c.intermediateSize, c.numHiddenLayers, c.numAttentionHeads, c.numKeyValueHeads) = (256, 704, 4, 4, 2)
        case .base:
            (c.hiddenSize, c.intermediateSize, c.numHiddenLayers, c.numAttentionHeads, c.numKeyValueHeads) = (1024, 2816, 24, 16, 8)
        }
        return c
    }

    /// This config as an `ErniePixelForSequenceClassification` with `numLabels` outputs, labelled as
    /// transformers labels them by default (LABEL_0...), pad id 2 as the fine-tuning scripts set it (SPEC 6).
    public func forSequenceClassification(numLabels: Int) -> PixelGPTConfig {
        var c = self
        c.architectures = [family.sequenceClassificationArchitecture]
        c.numLabels = numLabels
        c.id2label = Dictionary(uniqueKeysWithValues: (0..<numLabels).map { (String($0), "LABEL_\($0)") })
        c.label2id = Dictionary(uniqueKeysWithValues: (0..<numLabels).map { ("LABEL_\($0)", $0) })
        c.problemType = numLabels == 1 ? "regression" : "single_label_classification"
        c.padTokenId = 2
        return c
    }
}
