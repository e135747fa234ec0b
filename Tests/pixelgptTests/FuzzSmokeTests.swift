import Foundation
import TestSupport
import Testing

/// The fixed-seed share of the fuzz campaign (scripts/fuzz.py; `make fuzz` runs the long one): every parser
/// of the tool gets mutated inputs through the built executable, under a 4 GiB address-space cap and a time
/// limit. Any crash (a signal: Swift trap, SIGSEGV, the memory cap) or hang fails the test; clean errors and
/// successes are both fine.
@Suite struct FuzzSmokeTests {
    static let targets = ["safetensors", "sharded-index", "hdf5", "config-json", "task-yaml", "tsv-rows", "jsonl-rows",
                          "tokenizer-model", "rendered-rows", "png", "results-json", "samples-jsonl",
                          "samples-html", "shard-json"]

    @Test(.enabled(if: PythonReference.isAvailable("gzip, resource")))
    func tenMutatedInputsPerParserNeitherCrashNorHang() throws {
        let keep = try TemporaryDirectory()
        let output = try PythonReference.run([PythonReference.repositoryRoot + "/scripts/fuzz.py", "--pixelgpt", CommandLineTests.executable.path,
                                              "--seed", "1", "--count", "10", "--timeout", "120", "--keep", keep.path, "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        #expect(report["schema"] as? String == "pixelgpt.fuzz" && report["version"] as? Int == 1)
        let targets = try #require(report["targets"] as? [String: [String: Any]])
        #expect(Set(targets.keys) == Set(Self.targets))
        for (name, counts) in targets {
            #expect(counts["inputs"] as? Int == 10, "\(name): \(counts)")
            #expect(counts["crash"] as? Int == 0 && counts["hang"] as? Int == 0, "\(name): \(counts)")
        }
        #expect((report["failures"] as? [Any])?.isEmpty == true, "\(report["failures"] ?? "")")
    }
}
