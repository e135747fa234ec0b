import Foundation
import SafeTensors
import Testing
@testable import Checkpoints

/// HDF5 in every style users have, checked against what h5py/numpy read from the same files.
@Suite struct HDF5Tests {
    static func bytes(_ weight: LoadedWeight) -> [UInt8] {
        switch weight.payload {
        case .stored(let view): view.bytes()
        case .bytes(let b): b
        default: []
        }
    }

    @Test(arguments: [("h5py_flat", HDF5Weights.Layout.h5py), ("h5py_nested", .h5py), ("keras_tf_model", .keras)])
    func readsWhatNumpyReads(_ name: String, _ layout: HDF5Weights.Layout) throws {
        let source = try HDF5Weights(path: Fixtures.path(name + ".h5"))
        #expect(source.layout == layout)
        let expected = try SafeTensorsFile(path: Fixtures.path(name + ".expected.safetensors"))
        #expect(Set(source.weights.map(\.name)) == Set(expected.tensorNames))
        for info in expected.tensorInfos {
            let loaded = try source.load(info.name)
            #expect(loaded.info.dtype == info.dtype, "\(info.name)")
            #expect(loaded.info.shape == info.shape, "\(info.name)")
            #expect(Self.bytes(loaded) == (try expected.tensor(named: info.name).bytes()), "\(info.name)")
        }
        if layout == .keras {
            #expect(source.weights.filter { $0.permutation != nil }.count == 10)  // 8 dense kernels, the conv, and the pixel head
        }
        if name == "h5py_nested" {
            #expect(source.info("model.layers.0.self_attn.q_proj.weight")?.storage == "chunked+shuffle+gzip")
        }
    }

    /// Every tensor converted to safetensors equals what numpy read from the HDF5 file.
    @Test(arguments: ["h5py_flat", "h5py_nested", "keras_tf_model"])
    func convertsToSafeTensorsExactly(_ name: String) throws {
        let dir = try TemporaryDirectory()
        let out = dir.file("out.safetensors")
        _ = try CheckpointConverter.convert(from: Fixtures.path(name + ".h5"), to: out, options: .init(toolVersion: "test"))
        let comparison = try CheckpointComparison.compare(out, Fixtures.path(name + ".expected.safetensors"))
        #expect(comparison.passed)
        #expect(comparison.tensors.allSatisfy { $0.maxAbsDiff == 0 })
        let written = try SafeTensorsFile(path: out)
        #expect(written.metadata?["pixelgpt.source_sha256"]?.hasPrefix(name + ".h5:") == true)
    }

    /// safetensors -> HDF5 -> safetensors keeps every dtype's bytes, contiguous and gzip-compressed.
    @Test(arguments: [nil, 6] as [Int?])
    func roundTripsEveryDtype(_ gzip: Int?) throws {
        let dir = try TemporaryDirectory()
        let source = Fixtures.safeTensorsFixtures + "/all_dtypes.safetensors"
        let h5 = dir.file("all.h5"), back = dir.file("back.safetensors")
        _ = try CheckpointConverter.convert(from: source, to: h5, options: .init(gzipLevel: gzip, toolVersion: "test"))
        _ = try CheckpointConverter.convert(from: h5, to: back, options: .init(toolVersion: "test"))
        let original = try SafeTensorsFile(path: source), result = try SafeTensorsFile(path: back)
        #expect(Set(result.tensorNames) == Set(original.tensorNames))
        for info in original.tensorInfos {
            let copy = try result.tensor(named: info.name)
            #expect(copy.dtype == info.dtype && copy.shape == info.shape, "\(info.name)")
            #expect(copy.bytes() == (try original.tensor(named: info.name).bytes()), "\(info.name)")
        }
        #expect(try CheckpointComparison.compare(source, back).passed)
        #expect(try CheckpointComparison.compare(source, h5).passed)
        // Metadata survives both hops, with provenance added.
        #expect(result.metadata?["source"] == original.metadata?["source"])
    }

    /// A file this project writes opens in h5py with the same arrays (BF16 and the 8-bit floats as their
    /// bit patterns, named by the dtype attribute).
    @Test(.enabled(if: PythonReference.isAvailableOrRequired("h5py, numpy"), "needs python3 with h5py"))
    func h5pyReadsWhatTheWriterWrites() throws {
        let dir = try TemporaryDirectory()
        let source = Fixtures.safeTensorsFixtures + "/all_dtypes.safetensors"
        let h5 = dir.file("all.h5")
        _ = try CheckpointConverter.convert(from: source, to: h5, options: .init(gzipLevel: 3, toolVersion: "test"))
        let output = try PythonReference.run([Fixtures.repositoryRoot + "/scripts/read_hdf5_reference.py", h5])
        let report = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        let attrs = try #require(report["attrs"] as? [String: String])
        #expect(attrs["format"] == "pixelgpt-hdf5")
        #expect(attrs["format_version"] == "1")
        let datasets = try #require(report["datasets"] as? [String: [String: Any]])
        let original = try SafeTensorsFile(path: source)
        #expect(Set(datasets.keys) == Set(original.tensorNames))
        let numpyNames: [DType: String] = [.bool: "bool", .f16: "float16", .f32: "float32", .f64: "float64", .c64: "complex64",
                                           .bf16: "uint16", .i64: "int64", .u64: "uint64", .f8E4M3: "uint8"]
        for info in original.tensorInfos {
            let d = try #require(datasets[info.name])
            #expect(d["dtype_attr"] as? String == info.dtype.rawValue, "\(info.name)")
            // Packed F4 is stored as its bytes (logical shape in an attribute).
            #expect(d["shape"] as? [Int] == (info.dtype == .f4 ? [info.byteCount] : info.shape), "\(info.name)")
            if let numpy = numpyNames[info.dtype] { #expect(d["dtype"] as? String == numpy, "\(info.name)") }
            #expect(d["data_hex"] as? String == (try original.tensor(named: info.name).bytes().hex), "\(info.name)")
        }
    }

    @Test func badHDF5FilesGiveOneLineErrors() throws {
        for (file, needle) in [("truncated.h5", "truncated.h5"), ("strings.h5", "unsupported type (string)")] {
            #expect {
                try HDF5Weights(path: Fixtures.path(file))
            } throws: { error in
                let text = "\(error)"
                return text.contains(needle) && !text.contains("\n")
            }
        }
        let dir = try TemporaryDirectory()
        try Data("not hdf5 at all".utf8).write(to: URL(fileURLWithPath: dir.file("fake.h5")))
        #expect { try HDF5Weights(path: dir.file("fake.h5")) } throws: { "\($0)".contains("not an HDF5 file") }
        // A conversion from a bad source leaves nothing behind.
        #expect(throws: (any Error).self) {
            try CheckpointConverter.convert(from: Fixtures.path("strings.h5"), to: dir.file("out.safetensors"), options: .init(toolVersion: "t"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["fake.h5"])
    }

    /// Corrupted bytes anywhere in an HDF5 file give a clean error or a clean read, never a crash.
    @Test func corruptedFilesFailCleanly() throws {
        let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path("h5py_nested.h5"))))
        let dir = try TemporaryDirectory()
        var state: UInt64 = 0x4844_4635
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        var rejected = 0
        for iteration in 0..<60 {
            var bytes = original
            for _ in 0...next(8) { bytes[next(bytes.count)] = UInt8(next(256)) }
            let path = dir.file("m\(iteration).h5")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                let source = try HDF5Weights(path: path)
                for weight in source.weights { _ = try source.load(weight.name) }
            } catch {
                rejected += 1
                #expect(!"\(error)".contains("\n"), "iteration \(iteration)")
            }
        }
        #expect(rejected > 0)
    }

    /// The Keras name rules agree with transformers' convert_tf_weight_name_to_pt_weight_name.
    @Test func kerasNamesMapAsTransformersDoes() throws {
        #expect(KerasWeightNames.pytorchName("tf_m/model/layers_._3/mlp/up_proj/kernel:0", rank: 2)
                == .init(name: "model.layers.3.mlp.up_proj.weight", permutation: [1, 0]))
        #expect(KerasWeightNames.pytorchName("tf_m/model/embed_tokens/embeddings:0", rank: 2)
                == .init(name: "model.embed_tokens.weight", permutation: nil))
        #expect(KerasWeightNames.pytorchName("tf_m/model/embed_patches/patch_embeddings/norm/beta:0", rank: 1)
                == .init(name: "model.embed_patches.patch_embeddings.norm.bias", permutation: nil))
    }

    /// The same rules against transformers' own function, where transformers is installed (it is not a
    /// setup dependency: torch-sized).
    @Test(.enabled(if: PythonReference.isAvailable("transformers"), "needs python3 with transformers"))
    func kerasNamesMatchTransformersItself() throws {
        let names = ["tf_m/model/layers_._3/mlp/up_proj/kernel:0", "tf_m/conv/kernel:0", "tf_m/x/gamma:0", "single:0", "tf_m/a___b/beta:0"]
        let ranks = [2, 4, 1, 1, 1]
        let script = """
        import json, sys
        from transformers.modeling_tf_pytorch_utils import convert_tf_weight_name_to_pt_weight_name as c
        names, ranks = json.loads(sys.argv[1]), json.loads(sys.argv[2])
        print(json.dumps([c(n, tf_weight_shape=[2] * r)[0] for n, r in zip(names, ranks)]))
        """
        let arguments = [String(decoding: try JSONSerialization.data(withJSONObject: names), as: UTF8.self),
                         String(decoding: try JSONSerialization.data(withJSONObject: ranks), as: UTF8.self)]
        let output = try PythonReference.run(["-c", script] + arguments)
        let theirs = try #require(try JSONSerialization.jsonObject(with: output.suffix(from: output.firstIndex(of: UInt8(ascii: "["))!)) as? [String])
        #expect(zip(names, ranks).map { KerasWeightNames.pytorchName($0, rank: $1).name } == theirs)
    }

    @Test func permuteMatchesIndexArithmetic() {
        // [2, 3, 4] permuted to axes (2, 0, 1): out[k][i][j] = in[i][j][k].
        let input = (0..<24).map { UInt8($0) }
        let out = KerasWeightNames.permute(input, shape: [2, 3, 4], elementSize: 1, permutation: [2, 0, 1])
        for k in 0..<4 { for i in 0..<2 { for j in 0..<3 { #expect(out[k * 6 + i * 3 + j] == input[i * 12 + j * 4 + k]) } } }
    }
}
