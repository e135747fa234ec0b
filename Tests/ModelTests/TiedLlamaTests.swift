import Checkpoints
import Foundation
import Model
import Testing
import TestSupport

/// A vanilla Llama checkpoint with tied embeddings (tie_word_embeddings true, no lm_head.weight in the
/// file, as transformers' save_pretrained writes one), written by Python with the safetensors package, runs
/// through `pixelgpt forward`, `generate` and `eval --modality text` and matches the numpy reference of
/// scripts/make_model_fixtures.py with the token head tied to embed_tokens (issue 15).
@Suite(.enabled(if: PythonReference.isAvailable("numpy, safetensors") || PythonReference.isRequired, "needs numpy and safetensors"))
struct TiedLlamaTests {
    /// The checkpoint (`model/`), a text batch (`inputs.safetensors`), the reference outputs
    /// (`expected.safetensors`); stdout: the reference's greedy continuation of `prompt`.
    static let script = #"""
import json, os, sys
import numpy as np
from safetensors.numpy import save_file
root, out = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(root, "scripts"))
import make_model_fixtures as ref

rng = np.random.default_rng(15)
cfg = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_act": "silu", "hidden_size": 32,
       "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
       "vocab_size": 32000, "max_position_embeddings": 512, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
       "rope_scaling": None, "attention_bias": False, "tie_word_embeddings": True, "bos_token_id": 1,
       "eos_token_id": 2, "torch_dtype": "float32", "transformers_version": "4.36.2"}
w = ref.make_weights(rng, cfg, "llama")
del w["lm_token_head.weight"]  # tied: the file holds embed_tokens only
model = os.path.join(out, "model")
os.makedirs(model)
with open(os.path.join(model, "config.json"), "w") as f:
    json.dump(cfg, f, indent=2)
save_file(w, os.path.join(model, "model.safetensors"), metadata={"format": "pt"})

# transformers' PreTrainedModel.tie_weights: with tie_word_embeddings the output embeddings (lm_head) are
# the input embeddings.
tied = dict(w)
tied["lm_token_head.weight"] = w["model.embed_tokens.weight"]
ids, mask = ref.text_batch(rng, cfg["vocab_size"], [7, 4], 7, "right")
save_file({"input_ids": ids, "attention_mask": mask}, os.path.join(out, "inputs.safetensors"))
save_file(ref.forward(cfg, tied, input_ids=ids, attention_mask=mask), os.path.join(out, "expected.safetensors"))

sequence = [int(t) for t in sys.argv[3].split(",")]
for _ in range(int(sys.argv[4])):
    row = np.array([sequence], dtype=np.int64)
    logits = ref.forward(cfg, tied, input_ids=row, attention_mask=np.ones_like(row))["token_logits"][0, -1]
    sequence.append(int(np.argmax(logits)))
print(json.dumps(sequence))
"""#

    static let prompt = [1, 450, 4996, 17354]
    static let newTokens = 6

    @Test func forwardAndGenerateMatchTheReference() throws {
        let directory = try TemporaryDirectory()
        let output = try PythonReference.run(["-c", Self.script, PythonReference.repositoryRoot, directory.path,
                                              Self.prompt.map(String.init).joined(separator: ","), String(Self.newTokens)])
        let referenceSequence = try JSONDecoder().decode([Int].self, from: output)
        let model = directory.file("model")

        // Loads with the embedding as its token head, the same storage: no lm_head.weight, nothing unused.
        let loaded = try PixelGPTModel.load(path: model)
        let weights = loaded.model.weights
        #expect(weights.patchEmbedding == nil && weights.pixelHead == nil)
        #expect(weights.tokenHead?.name == TensorRole.tokenEmbedding.name() && loaded.unused.isEmpty)

        // pixelgpt forward: every output within the numerics contract's 1e-4.
        let out = directory.file("out.safetensors")
        let forward = try runProcess(ForwardCommandTests.executable, ["forward", "--model", model, "--inputs", directory.file("inputs.safetensors"),
                                                                      "--out", out, "--hidden-states"])
        #expect(forward.status == 0, "\(forward.stderr)")
        let got = try readTensors(out), expected = try readTensors(directory.file("expected.safetensors"))
        #expect(Set(got.keys) == Set(expected.keys) && expected.keys.contains("token_logits"))
        for (name, reference) in expected {
            let mine = try #require(got[name])
            #expect(mine.shape == reference.shape, "\(name)")
            #expect(relativeError(mine.floats, reference.floats) < GoldenForwardTests.tolerance, "\(name)")
        }

        // pixelgpt generate: the reference's greedy tokens.
        let generate = try runProcess(ForwardCommandTests.executable, ["generate", "--model", model, "--text-ids", Self.prompt.map(String.init).joined(separator: ","),
                                                                       "--max-new-tokens", String(Self.newTokens), "--ignore-eos", "--json"])
        #expect(generate.status == 0, "\(generate.stderr)")
        struct Generated: Decodable { let prompt: [Int]; let generated: [Int] }
        let generated = try JSONDecoder().decode(Generated.self, from: generate.stdout)
        #expect(generated.prompt + generated.generated == referenceSequence)
    }

    static var tokenizer: String? {
        guard let data = ProcessInfo.processInfo.environment["PIXELGPT_DATA"] else { return nil }
        let path = data + "/tokenizer/llama2/tokenizer.model"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// pixelgpt eval in text modality on the tied Llama: the run completes with every row evaluated.
    @Test(.enabled(if: TiedLlamaTests.tokenizer != nil, "needs the Llama tokenizer from PIXELGPT_DATA"))
    func evaluatesInTextModality() throws {
        let directory = try TemporaryDirectory()
        _ = try PythonReference.run(["-c", Self.script, PythonReference.repositoryRoot, directory.path, "1", "0"])
        let eval = try runProcess(ForwardCommandTests.executable, [
            "eval", "--model", directory.file("model"), "--tasks", "rte", "--modality", "text", "--tokenizer", Self.tokenizer!,
            "--data-dir", PythonReference.repositoryRoot + "/samples", "--limit", "12", "--train-limit", "16", "--output-dir", directory.file("eval"),
        ])
        #expect(eval.status == 0, "\(eval.stderr)")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory.file("eval/results.json")))) as? [String: Any])
        let task = try #require((results["tasks"] as? [[String: Any]])?.first)
        #expect(task["task"] as? String == "rte" && task["rows"] as? Int == 12)
    }
}
