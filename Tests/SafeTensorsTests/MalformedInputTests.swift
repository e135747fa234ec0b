import Foundation
import Testing
@testable import SafeTensors

/// Every malformed file gives a one-line error naming the file and the problem; none crashes.
@Suite struct MalformedInputTests {
    static let valid = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I16","shape":[2],"data_offsets":[8,12]}}"#

    struct Case: CustomStringConvertible, Sendable {
        let name: String
        let bytes: [UInt8]
        let matches: @Sendable (SafeTensorsError.Problem) -> Bool
        /// Whether the reference implementation accepts it too (it keeps the last of duplicate keys).
        var referenceAccepts = false
        var description: String { name }
    }

    static let cases: [Case] = {
        let data = [UInt8](repeating: 0, count: 12)
        func header(_ json: String, data: [UInt8] = data) -> [UInt8] { handMadeFile(header: json, data: data) }
        var c: [Case] = [
            Case(name: "empty file", bytes: []) { if case .tooSmall(0) = $0 { true } else { false } },
            Case(name: "seven bytes", bytes: [1, 0, 0, 0, 0, 0, 0]) { if case .tooSmall = $0 { true } else { false } },
            Case(name: "header length past end", bytes: withUnsafeBytes(of: UInt64(1000).littleEndian) { Array($0) } + Array("{}".utf8)) {
                if case .headerPastEnd(1000, _) = $0 { true } else { false }
            },
            Case(name: "header over 100 MB", bytes: withUnsafeBytes(of: UInt64(100_000_001).littleEndian) { Array($0) } + Array("{}".utf8)) {
                if case .headerTooLarge = $0 { true } else { false }
            },
            // Reported as the file says it (it was clamped to Int.max, 9223372036854775807).
            Case(name: "huge header length", bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7B, 0x7D]) {
                if case .headerTooLarge(UInt64.max) = $0 { "\(SafeTensorsError(path: "f", $0))".contains("header length 18446744073709551615 ") } else { false }
            },
            Case(name: "invalid JSON", bytes: header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#)) {
                if case .headerSyntax = $0 { true } else { false }
            },
            Case(name: "trailing comma", bytes: header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},}"#)) {
                if case .headerSyntax = $0 { true } else { false }
            },
            Case(name: "not UTF-8", bytes: header("{\"\u{FF}\":1}").enumerated().map { $0.offset == 10 ? 0xFF : $0.element }) {
                if case .headerNotUTF8 = $0 { true } else { false }
            },
            Case(name: "array at top level", bytes: header("[]", data: [])) { if case .headerNotAnObject("array") = $0 { true } else { false } },
            Case(name: "unknown dtype", bytes: header(#"{"a":{"dtype":"F17","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"I16","shape":[2],"data_offsets":[8,12]}}"#)) {
                if case .unknownDType("a", "F17") = $0 { true } else { false }
            },
            Case(name: "shape disagrees with offsets", bytes: header(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]},"b":{"dtype":"I16","shape":[2],"data_offsets":[8,12]}}"#)) {
                if case .sizeMismatch("a", 12, 8) = $0 { true } else { false }
            },
            Case(name: "overlapping tensors", bytes: header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#)) {
                if case .offsetsNotContiguous("b", 8, 4, 12) = $0 { true } else { false }
            },
            Case(name: "gap between tensors", bytes: header(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#)) {
                if case .offsetsNotContiguous("b", 4, 8, 12) = $0 { true } else { false }
            },
            Case(name: "end before begin", bytes: header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#)) {
                if case .offsetsNotContiguous("a", _, 8, 0) = $0 { true } else { false }
            },
            Case(name: "truncated data", bytes: header(valid, data: [UInt8](repeating: 0, count: 11))) {
                if case .dataSizeMismatch(12, 11) = $0 { true } else { false }
            },
            Case(name: "trailing bytes", bytes: header(valid, data: [UInt8](repeating: 0, count: 13))) {
                if case .dataSizeMismatch(12, 13) = $0 { true } else { false }
            },
            Case(name: "missing field", bytes: header(#"{"a":{"dtype":"F32","data_offsets":[0,12]}}"#)) {
                if case .invalidEntry("a", _) = $0 { true } else { false }
            },
            Case(name: "negative dimension", bytes: header(#"{"a":{"dtype":"F32","shape":[-3],"data_offsets":[0,12]}}"#)) {
                if case .invalidEntry("a", _) = $0 { true } else { false }
            },
            Case(name: "fractional offset", bytes: header(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12.0]}}"#)) {
                if case .invalidEntry("a", _) = $0 { true } else { false }
            },
            Case(name: "shape overflows", bytes: header(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,12]}}"#)) {
                if case .sizeOverflow("a") = $0 { true } else { false }
            },
            Case(name: "metadata value not a string", bytes: header(#"{"__metadata__":{"n":1},"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#)) {
                if case .invalidMetadata = $0 { true } else { false }
            },
            Case(name: "entry not an object", bytes: header(#"{"a":[1,2]}"#)) { if case .invalidEntry("a", _) = $0 { true } else { false } },
        ]
        var duplicate = Case(name: "duplicate tensor name", bytes: header(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#)) {
            if case .headerSyntax(let message, _) = $0 { message.contains("duplicate key \"a\"") } else { false }
        }
        duplicate.referenceAccepts = true
        c.append(duplicate)
        return c
    }()

    @Test(arguments: cases)
    func rejectsMalformedFile(_ testCase: Case) throws {
        do {
            _ = try SafeTensorsFile(bytes: testCase.bytes, path: "bad.safetensors")
            Issue.record("\(testCase.name): accepted")
        } catch {
            #expect(testCase.matches(error.problem), "\(testCase.name): \(error)")
            #expect(error.description.hasPrefix("bad.safetensors: "))
            #expect(!error.description.contains("\n"))
        }
    }

    /// The reference implementation rejects the same files (and accepts the one case where we are stricter).
    @Test(.enabled(if: PythonReference.isAvailableOrRequired("safetensors, numpy"), "needs python3 with safetensors"))
    func referenceAgreesOnMalformedFiles() throws {
        let dir = try TemporaryDirectory()
        var paths: [String] = []
        for (i, c) in Self.cases.enumerated() {
            let path = dir.file("case\(i).safetensors")
            try Data(c.bytes).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let script = """
        import sys, json
        from safetensors import deserialize
        result = []
        for p in sys.argv[1:]:
            try:
                deserialize(open(p, "rb").read()); result.append(True)
            except Exception:
                result.append(False)
        print(json.dumps(result))
        """
        let output = try PythonReference.run(["-c", script] + paths)
        let accepted = try #require(try JSONSerialization.jsonObject(with: output) as? [Bool])
        for (c, ok) in zip(Self.cases, accepted) {
            #expect(ok == c.referenceAccepts, "\(c.name): reference accepts = \(ok)")
        }
    }

    @Test func fileLevelProblemsNameTheFile() throws {
        let dir = try TemporaryDirectory()
        #expect { try SafeTensorsFile(path: dir.path) } throws: { ($0 as? SafeTensorsError)?.problem == .notARegularFile }
        #expect { try SafeTensorsFile(path: dir.file("missing.safetensors")) } throws: { error in
            guard let e = error as? SafeTensorsError, case .cannotOpen = e.problem else { return false }
            return e.path.hasSuffix("missing.safetensors")
        }
    }

    @Test func shardedProblemsNameTheShard() throws {
        let dir = try TemporaryDirectory()
        try SafeTensorsWriter.write([TensorRecord(name: "a", dtype: .f32, shape: [1], payload: .float32([1]))], to: dir.file("s1.safetensors"))
        func index(_ json: String) throws -> String {
            let path = dir.file("model.safetensors.index.json")
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }
        #expect { try ShardedSafeTensors(indexPath: try index(#"{"weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}}"#)) } throws: {
            ($0 as? SafeTensorsError)?.problem == .missingShard(shard: "s2.safetensors", tensor: "b")
        }
        #expect { try ShardedSafeTensors(indexPath: try index(#"{"weight_map": {"zz": "s1.safetensors"}}"#)) } throws: {
            guard let e = $0 as? SafeTensorsError, case .shardDisagrees("s1.safetensors", _) = e.problem else { return false }
            return true
        }
        #expect { try ShardedSafeTensors(indexPath: try index(#"{"weight_map": {"a": "../etc/passwd"}}"#)) } throws: {
            guard let e = $0 as? SafeTensorsError, case .invalidIndex = e.problem else { return false }
            return true
        }
        #expect { try ShardedSafeTensors(indexPath: try index(#"{"weight_map": "#)) } throws: {
            guard let e = $0 as? SafeTensorsError, case .headerSyntax = e.problem else { return false }
            return true
        }
        let ok = try ShardedSafeTensors(indexPath: try index(#"{"metadata": {"total_size": 99}, "weight_map": {"a": "s1.safetensors"}}"#))
        #expect(ok.warnings.count == 1)
        #expect(try ok.tensor(named: "a").float32Values() == [1])
    }

    /// Hostile inputs, item 11: a tensor a shard holds but weight_map does not list was dropped without a word,
    /// a tensor in two shards kept one silently, and a shard name with an embedded NUL opened the prefix's file.
    /// Now: unlisted tensors are named in a warning (never read); two copies are refused naming both shards
    /// when transformers (which loads whole shards in sorted order, the last copy winning) would load the other
    /// copy; control characters in shard names are refused.
    @Test func shardContentsMustMatchTheWeightMap() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("model.safetensors.index.json")
        func shard(_ file: String, _ names: [String], value: Float = 1) throws {
            try SafeTensorsWriter.write(names.map { TensorRecord(name: $0, dtype: .f32, shape: [1], payload: .float32([value])) }, to: dir.file(file))
        }
        func open(_ json: String) throws -> ShardedSafeTensors {
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
            return try ShardedSafeTensors(indexPath: path)
        }
        func refusal(_ json: String) -> String {
            do {
                let opened = try open(json)
                Issue.record("opened with \(opened.tensorInfos.map(\.name))")
            } catch {
                let text = "\(error)"
                #expect(text.hasPrefix(path + ": ") && !text.contains("\n") && !text.contains("\0"), "\(text)")
                return text
            }
            return ""
        }
        let map = #"{"weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}}"#
        try shard("s1.safetensors", ["a", "extra"])
        try shard("s2.safetensors", ["b"])
        let unlisted = try open(map)
        #expect(unlisted.tensorInfos.map(\.name) == ["a", "b"])
        #expect(unlisted.warnings == [#"shard "s1.safetensors" holds 1 tensors the index's weight_map does not list ("extra"); they are not read"#])

        // "a" in both shards, the map naming the first: transformers' last-loaded copy is s2's.
        try shard("s1.safetensors", ["a"], value: 1)
        try shard("s2.safetensors", ["a", "b"], value: 2)
        let twice = refusal(map)
        #expect(twice.contains(#"shard "s2.safetensors": holds "a" too, after the index's shard "s1.safetensors""#) && twice.contains("two shards"), "\(twice)")
        // The map naming the last copy agrees with transformers (this project's saved heads look so): a warning.
        try shard("s1.safetensors", ["a", "c"], value: 1)
        let agreed = try open(#"{"weight_map": {"a": "s2.safetensors", "b": "s2.safetensors", "c": "s1.safetensors"}}"#)
        #expect(try agreed.tensor(named: "a").float32Values() == [2])
        #expect(agreed.warnings == [#"shard "s1.safetensors" also holds "a", which the index maps to "s2.safetensors"; that copy is read"#])

        // "s1.safetensors\0x": open(2) would read s1.safetensors.
        try shard("s1.safetensors", ["a"])
        try shard("s2.safetensors", ["b"])
        for control in ["\\u0000x", "\\u001b[31m", "\\n"] {
            let nul = refusal(#"{"weight_map": {"a": "s1.safetensors"# + control + #"", "b": "s2.safetensors"}}"#)
            #expect(nul.contains("invalid sharded index") && nul.contains("control character") && nul.contains("s1.safetensors\\u{"), "\(nul)")
        }
        #expect(try open(map).warnings.isEmpty)
    }

    @Test func writerRefusesInconsistentRecords() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("w.safetensors")
        let bad: [[TensorRecord]] = [
            [TensorRecord(name: "a", dtype: .f32, shape: [2], payload: .float32([1])),],
            [TensorRecord(name: "a", dtype: .f32, shape: [1], payload: .bytes([0, 0])),],
            [TensorRecord(name: "a", dtype: .i8, shape: [1], payload: .float32([1])),],
            [TensorRecord(name: "a", dtype: .f32, shape: [1], payload: .float32([1])), TensorRecord(name: "a", dtype: .f32, shape: [1], payload: .float32([1]))],
            [TensorRecord(name: "__metadata__", dtype: .f32, shape: [1], payload: .float32([1]))],
        ]
        for records in bad {
            #expect(throws: SafeTensorsError.self) { try SafeTensorsWriter.write(records, to: path) }
            // Nothing half-written is left behind: no output, no temporary file.
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        }
    }
}
