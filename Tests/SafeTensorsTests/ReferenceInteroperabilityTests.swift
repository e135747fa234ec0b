import Foundation
import Testing
@testable import SafeTensors

/// Files written by the Python `safetensors` package read back exactly, and the reverse.
@Suite struct ReferenceInteroperabilityTests {
    @Test func readsEveryDtypeWrittenByTheReference() throws {
        let file = try SafeTensorsFile(path: Fixtures.path("all_dtypes.safetensors"))
        let expectedShapes: [String: (DType, [Int])] = [
            "bool": (.bool, [2, 3]), "u8": (.u8, [4]), "i8": (.i8, [4]), "i16": (.i16, [4]), "u16": (.u16, [3]),
            "i32": (.i32, [2, 2]), "u32": (.u32, [3]), "i64": (.i64, [4]), "u64": (.u64, [3]),
            "f16_all": (.f16, [65536]), "bf16_sample": (.bf16, [4096]), "f32": (.f32, [2, 3]), "f64": (.f64, [4]),
            "f8_e4m3": (.f8E4M3, [256]), "f8_e5m2": (.f8E5M2, [256]), "f8_e8m0": (.f8E8M0, [256]),
            "f8_e4m3fnuz": (.f8E4M3FNUZ, [256]), "f8_e5m2fnuz": (.f8E5M2FNUZ, [256]), "c64": (.c64, [2]),
            "f4": (.f4, [4]), "scalar": (.f32, []), "empty": (.f32, [2, 0]),
        ]
        #expect(Set(file.tensorNames) == Set(expectedShapes.keys))
        for (name, (dtype, shape)) in expectedShapes {
            let view = try file.tensor(named: name)
            #expect(view.dtype == dtype, "\(name)")
            #expect(view.shape == shape, "\(name)")
        }
        #expect(file.metadata == ["format": "pt", "source": "make_safetensors_fixtures.py", "note": "ünïcødé \"quoted\""])
        #expect(try file.tensor(named: "scalar").float32Values() == [7.25])
        #expect(try file.tensor(named: "empty").float32Values() == [])
        #expect(try file.tensor(named: "f4").bytes() == [0x21, 0xF7])
        #expect(throws: SafeTensorsError.self) { try file.tensor(named: "c64").float32Values() }
        let f32 = try file.tensor(named: "f32").float32Values()
        #expect(f32.map(\.bitPattern) == [0, 0x8000_0000, Float(1.5).bitPattern, Float.infinity.bitPattern,
                                          (-Float.infinity).bitPattern, Float.greatestFiniteMagnitude.bitPattern])
    }

    @Test func integersMatchTheReferenceExactly() throws {
        let file = try SafeTensorsFile(path: Fixtures.path("all_dtypes.safetensors"))
        let integers = try #require(try Fixtures.expected()["integers"] as? [String: [String]])
        #expect(integers.count == 9)
        for (name, values) in integers {
            let view = try file.tensor(named: name)
            let decoded: [String] = view.withUnsafeBytes { raw in
                let n = view.info.elementCount
                return (0..<n).map { i -> String in
                    switch view.dtype {
                    case .bool: String(raw[i])
                    case .u8: String(raw[i])
                    case .i8: String(Int8(bitPattern: raw[i]))
                    case .i16: String(raw.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))
                    case .u16: String(raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    case .i32: String(raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))
                    case .u32: String(raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                    case .i64: String(raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                    case .u64: String(raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                    default: "?"
                    }
                }
            }
            #expect(decoded == values, "\(name)")
            // Float32 conversion of integers is exact where Float32 can hold the value.
            let floats = try view.float32Values()
            for (f, v) in zip(floats, values) where Double(v)!.magnitude < 16_777_216 {
                #expect(f == Float(Double(v)!), "\(name) \(v)")
            }
        }
    }

    /// Every F16 pattern, every 8-bit float pattern and a BF16 sample decode to the same Float32 bits as
    /// numpy / ml_dtypes (NaN compared as NaN).
    @Test func floatDecodingMatchesNumpyAndMLDtypes() throws {
        let stored = try SafeTensorsFile(path: Fixtures.path("all_dtypes.safetensors"))
        let reference = try SafeTensorsFile(path: Fixtures.path("decoded_f32.safetensors"))
        #expect(reference.tensorNames.count == 8)
        for name in reference.tensorNames {
            let ours = try stored.tensor(named: name).float32Values()
            let theirs = try reference.tensor(named: name).float32Values()
            #expect(ours.count == theirs.count)
            var mismatches = 0
            for (a, b) in zip(ours, theirs) where !(a.isNaN && b.isNaN) && a.bitPattern != b.bitPattern {
                mismatches += 1
            }
            #expect(mismatches == 0, "\(name): \(mismatches) values differ from the reference")
        }
    }

    /// Float32 -> F16 and BF16 round to nearest even exactly as numpy and ml_dtypes do, specials included.
    @Test func floatEncodingMatchesNumpyAndMLDtypes() throws {
        let file = try SafeTensorsFile(path: Fixtures.path("encode_f32.safetensors"))
        let source = try file.tensor(named: "source").float32Values()
        #expect(source.count > 40000)
        for (dtype, name) in [(DType.f16, "as_f16"), (.bf16, "as_bf16")] {
            let expected = try file.tensor(named: name).bytes()
            var ours = [UInt8](repeating: 0, count: expected.count)
            source.withUnsafeBufferPointer { src in
                ours.withUnsafeMutableBytes { ElementConversion.fromFloat32(src, to: dtype, into: $0) }
            }
            var mismatches = 0
            for i in 0..<source.count {
                let a = UInt16(ours[2 * i]) | UInt16(ours[2 * i + 1]) << 8
                let b = UInt16(expected[2 * i]) | UInt16(expected[2 * i + 1]) << 8
                if a == b { continue }
                let nanA = dtype == .f16 ? Float16(bitPattern: a).isNaN : ElementConversion.bfloat16ToFloat(a).isNaN
                let nanB = dtype == .f16 ? Float16(bitPattern: b).isNaN : ElementConversion.bfloat16ToFloat(b).isNaN
                if !(nanA && nanB) { mismatches += 1 }
            }
            #expect(mismatches == 0, "\(name): \(mismatches) encodings differ")
        }
    }

    /// The writer reproduces the reference writer's bytes: same order, header and padding.
    @Test func writerReproducesReferenceBytes() throws {
        let reference = try SafeTensorsFile(path: Fixtures.path("reference_layout.safetensors"))
        let dir = try TemporaryDirectory()
        // Records given in another order than the file's, to prove the writer orders them itself.
        let records = try reference.tensorNames.reversed().map { TensorRecord(copying: try reference.tensor(named: $0)) }
        try SafeTensorsWriter.write(records, metadata: reference.metadata, to: dir.file("out.safetensors"))
        let ours = try Data(contentsOf: URL(fileURLWithPath: dir.file("out.safetensors")))
        let theirs = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("reference_layout.safetensors")))
        #expect(ours == theirs)
    }

    @Test func readsAndWritesShardedCheckpointsLikeTransformers() throws {
        let indexPath = Fixtures.path("sharded/model.safetensors.index.json")
        let sharded = try ShardedSafeTensors(indexPath: indexPath)
        let expected = try #require(try Fixtures.expected()["sharded_values"] as? [String: [Double]])
        #expect(Set(sharded.tensorNames) == Set(expected.keys))
        #expect(sharded.warnings.isEmpty)
        #expect(sharded.index.totalSize == sharded.totalTensorBytes)
        for (name, values) in expected {
            #expect(try sharded.tensor(named: name).float32Values() == values.map { Float($0) }, "\(name)")
        }
        // Written back with the same shard size limit, shards and index are byte-identical.
        let dir = try TemporaryDirectory()
        let records = try sharded.tensorNames.map { TensorRecord(copying: try sharded.tensor(named: $0)) }
        let written = try SafeTensorsWriter.writeSharded(records, metadata: ["format": "pt"], directory: dir.path, maxShardBytes: 84)
        #expect(written.map { ($0 as NSString).lastPathComponent } == [
            "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json",
        ])
        for name in written.map({ ($0 as NSString).lastPathComponent }) {
            let ours = try Data(contentsOf: URL(fileURLWithPath: dir.file(name)))
            let theirs = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("sharded/" + name)))
            #expect(ours == theirs, "\(name)")
        }
    }

    /// Files this project writes load in the Python package with the same names, dtypes, shapes,
    /// bytes and metadata.
    @Test(.enabled(if: PythonReference.isAvailableOrRequired("safetensors, numpy"), "needs python3 with safetensors"))
    func pythonReadsWhatTheWriterWrites() throws {
        let source = try SafeTensorsFile(path: Fixtures.path("all_dtypes.safetensors"))
        let dir = try TemporaryDirectory()
        var records = try source.tensorNames.map { TensorRecord(copying: try source.tensor(named: $0)) }
        records.append(TensorRecord(copying: try source.tensor(named: "f64"), as: .bf16, name: "f64_as_bf16"))
        records.append(TensorRecord(copying: try source.tensor(named: "f8_e4m3"), as: .f16, name: "f8_as_f16"))
        records.append(TensorRecord(name: "generated", dtype: .f32, shape: [3, 5], payload: .generated { first, chunk in
            for i in 0..<chunk.count { chunk[i] = Float(first + i) * 0.5 }
        }))
        let metadata = ["format": "pt", "escapes": "tab\there \"q\" \\ \u{1} é"]
        let path = dir.file("swift.safetensors")
        try SafeTensorsWriter.write(records, metadata: metadata, to: path)

        let output = try PythonReference.run([PythonReference.repositoryRoot + "/scripts/read_safetensors_reference.py", path])
        let report = try #require(try JSONSerialization.jsonObject(with: output) as? [String: Any])
        #expect(report["metadata"] as? [String: String] == metadata)
        let tensors = try #require(report["tensors"] as? [String: [String: Any]])
        let ours = try SafeTensorsFile(path: path)
        #expect(Set(tensors.keys) == Set(ours.tensorNames))
        for info in ours.tensorInfos {
            let theirs = try #require(tensors[info.name])
            #expect(theirs["dtype"] as? String == info.dtype.rawValue, "\(info.name)")
            #expect(theirs["shape"] as? [Int] == info.shape, "\(info.name)")
            #expect(theirs["data_hex"] as? String == (try ours.tensor(named: info.name).bytes().hex), "\(info.name)")
        }
        #expect(try ours.tensor(named: "generated").float32Values() == (0..<15).map { Float($0) * 0.5 })
    }
}
