import Foundation
import Testing
import SafeTensors
@testable import Checkpoints

/// HDF5 files crafted to make a reader leave the file, loop, allocate without bound or invent data
/// (the "Hostile inputs" issue). Each is a few hundred bytes made by h5py inside the test.
@Suite struct HostileHDF5Tests {
    /// Runs `body` (Python, `f` open for writing) to make DIR/NAME.h5; `DIR` is in scope as `d`.
    static func make(_ name: String, in dir: TemporaryDirectory, _ body: String) throws -> String {
        let script = """
        import sys, h5py, numpy as np
        d = sys.argv[1]
        with h5py.File(d + '/\(name).h5', 'w') as f:
        \(body.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        """
        _ = try PythonReference.run(["-c", script, dir.path])
        return dir.file(name + ".h5")
    }

    static var hasH5py: Bool {
        let available = PythonReference.isAvailable("h5py, numpy")
        if !available { #expect(!PythonReference.isRequired, "python3 with h5py is required here") }
        return available
    }

    /// Opening `path` fails with one line naming the file and every string of `needles`.
    static func expectRefused(_ path: String, _ needles: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let source = try HDF5Weights(path: path)
            Issue.record("opened \(path) with tensors \(source.weights.map(\.name))", sourceLocation: sourceLocation)
        } catch {
            let text = "\(error)"
            #expect(!text.contains("\n"), "\(text)", sourceLocation: sourceLocation)
            #expect(text.hasPrefix(path + ": "), "\(text)", sourceLocation: sourceLocation)
            for needle in needles { #expect(text.contains(needle), "\(text) lacks \(needle)", sourceLocation: sourceLocation) }
        }
    }

    /// Item 1: raw data in another file, external links (relative and absolute) and soft links that
    /// reach out through one are refused before anything is read; links inside the file still work.
    @Test(.enabled(if: PythonReference.isAvailableOrRequired("h5py, numpy"), "needs python3 with h5py"))
    func dataOutsideTheFileIsRefused() throws {
        let dir = try TemporaryDirectory()
        try Data((0..<64).map { UInt8($0) }).write(to: URL(fileURLWithPath: dir.file("secret.bin")))
        let external = try Self.make("external", in: dir, "f.create_dataset('x', shape=(64,), dtype='u1', external=[(d + '/secret.bin', 0, 64)])")
        Self.expectRefused(external, ["/x", "external raw storage", "secret.bin"])
        _ = try Self.make("other", in: dir, "f['x'] = np.arange(4, dtype='f4')")
        let relative = try Self.make("relative", in: dir, "f['y'] = h5py.ExternalLink('other.h5', '/x')")
        Self.expectRefused(relative, ["/y", "external link", "other.h5"])
        let absolute = try Self.make("absolute", in: dir, "f['y'] = h5py.ExternalLink(d + '/other.h5', '/x')")
        Self.expectRefused(absolute, ["/y", "external link"])
        // Keras layout: the dataset path is taken from attributes, never listed, so each step is checked.
        let keras = try Self.make("keras", in: dir, """
        f.attrs['layer_names'] = [b'l']
        g = f.create_group('l')
        g.attrs['weight_names'] = [b'w/kernel:0']
        g['w'] = h5py.ExternalLink('other.h5', '/')
        """)
        Self.expectRefused(keras, ["/l/w", "external link"])
        let soft = try Self.make("soft", in: dir, """
        f['e'] = h5py.ExternalLink('other.h5', '/')
        f.create_group('g')['s'] = h5py.SoftLink('/e/x')
        f.attrs['layer_names'] = [b'g']
        f['g'].attrs['weight_names'] = [b's']
        """)
        Self.expectRefused(soft, ["/e", "external link"])
        let dangling = try Self.make("dangling", in: dir, "f['s'] = h5py.SoftLink('/nowhere')")
        Self.expectRefused(dangling, ["/s", "/nowhere"])
        // A soft link inside the file is only another name for a dataset.
        let inside = try Self.make("inside", in: dir, "f['a'] = np.arange(3, dtype='f4')\nf['b'] = h5py.SoftLink('/a')")
        let source = try HDF5Weights(path: inside)
        #expect(source.weights.map(\.name).sorted() == ["a", "b"])
        #expect(HDF5Tests.bytes(try source.load("b")) == HDF5Tests.bytes(try source.load("a")))
        // Nothing is written from a refused source.
        #expect(throws: (any Error).self) {
            try CheckpointConverter.convert(from: external, to: dir.file("out.safetensors"), options: .init(toolVersion: "t"))
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("out.safetensors")))
    }

    /// Soft links whose targets name other soft links many times over: resolving them one by one took
    /// 4^15 lookups; like HDF5, the walk follows at most 16 soft links per path in all.
    @Test(.enabled(if: PythonReference.isAvailableOrRequired("h5py, numpy"), "needs python3 with h5py"))
    func softLinkFanOutIsBounded() throws {
        let dir = try TemporaryDirectory()
        let path = try Self.make("fanout", in: dir, """
        g = f.create_group('g')
        g['x0'] = h5py.SoftLink('/g')
        for k in range(1, 16): g['x%d' % k] = h5py.SoftLink('/g' + '/x%d' % (k - 1) * 4)
        f.attrs['layer_names'] = [b'g']
        g.attrs['weight_names'] = [b'x15']
        """)
        Self.expectRefused(path, ["/g/x15", "more than 16 soft links"])
    }

    /// Item 7: a group holding a hard link to itself or to the root is a cycle, named by its path.
    @Test(.enabled(if: PythonReference.isAvailableOrRequired("h5py, numpy"), "needs python3 with h5py"), arguments: [("self", "g = f.create_group('g')\ng['loop'] = g", "/g/loop"),
                      ("root", "g = f.create_group('g')\ng.create_group('h')['up'] = f['/']", "/g/h/up")])
    func groupCyclesAreRefused(_ name: String, _ body: String, _ link: String) throws {
        let dir = try TemporaryDirectory()
        Self.expectRefused(try Self.make(name, in: dir, "f['w'] = np.zeros(2, 'f4')\n" + body), [link, "cycle"])
    }

    /// Item 6: a dataset that declares more bytes than the file stores (never written, or compressed
    /// beyond what deflate can reach) is refused from its metadata, before anything is allocated.
    @Test(.enabled(if: PythonReference.isAvailableOrRequired("h5py, numpy"), "needs python3 with h5py"), arguments: [("chunked", "f.create_dataset('big', shape=(65536, 65536), dtype='f4', chunks=(64, 64))", "17179869184"),
                      ("huge", "f.create_dataset('big', shape=(2**20, 2**20), dtype='f4', chunks=(64, 64))", "4398046511104"),
                      ("gzip", "f.create_dataset('big', shape=(65536, 65536), dtype='f4', chunks=(64, 64), compression='gzip')", "17179869184"),
                      ("contiguous", "f.create_dataset('big', shape=(4096,), dtype='f4')", "16384")])
    func declaredSizeBeyondStorageIsRefused(_ name: String, _ body: String, _ bytes: String) throws {
        let dir = try TemporaryDirectory()
        let path = try Self.make(name, in: dir, body)
        Self.expectRefused(path, ["/big", bytes, "stores 0 bytes"])
        // A partly written chunked dataset stores only the chunks written.
        let partial = try Self.make("partial", in: dir, "f.create_dataset('big', shape=(256,), dtype='f4', chunks=(64,))[:64] = 1")
        Self.expectRefused(partial, ["/big", "1024", "stores 256 bytes"])
    }

    /// Item 12: a null dataspace (h5py.Empty) has no value at all; it used to read as an F32 scalar 0.
    @Test(.enabled(if: PythonReference.isAvailableOrRequired("h5py, numpy"), "needs python3 with h5py"))
    func nullDataspaceIsRefused() throws {
        let dir = try TemporaryDirectory()
        Self.expectRefused(try Self.make("empty", in: dir, "f['e'] = h5py.Empty('f4')"), ["/e", "null dataspace"])
        // A scalar is a tensor of shape [].
        let scalar = try HDF5Weights(path: try Self.make("scalar", in: dir, "f['s'] = np.float32(1.5)"))
        #expect(scalar.weights.map(\.shape) == [[]])
        #expect(HDF5Tests.bytes(try scalar.load("s")) == [0, 0, 0xC0, 0x3F])
    }

    /// Item 11 for HDF5 shards: a dataset a shard holds but the index does not list is named in a warning (it
    /// was dropped without a word); one in two shards whose last copy is not the index's is refused naming both.
    @Test func shardContentsMustMatchTheIndex() throws {
        let dir = try TemporaryDirectory()
        func shard(_ file: String, _ names: [String]) throws {
            try? FileManager.default.removeItem(atPath: dir.file(file))
            try HDF5WeightWriter.write(names.map { TensorRecord(name: $0, dtype: .f32, shape: [1], payload: .float32([1])) },
                                       metadata: nil, configJSON: nil, to: dir.file(file))
        }
        let index = dir.file(ShardedHDF5Weights.defaultIndexName)
        try Data(#"{"weight_map": {"a": "s1.h5", "b": "s2.h5"}}"#.utf8).write(to: URL(fileURLWithPath: index))
        try shard("s1.h5", ["a", "extra"])
        try shard("s2.h5", ["b"])
        let unlisted = try ShardedHDF5Weights(indexPath: index)
        #expect(unlisted.weights.map(\.name) == ["a", "b"])
        #expect(unlisted.warnings == [#"shard "s1.h5" holds 1 tensors the index's weight_map does not list ("extra"); they are not read"#])
        try shard("s1.h5", ["a"])
        try shard("s2.h5", ["a", "b"])
        #expect { try ShardedHDF5Weights(indexPath: index) } throws: {
            "\($0)".contains(#"shard "s2.h5": holds "a" too, after the index's shard "s1.h5""#)
        }
    }

    /// Minor item: a tensor named "" was refused as "contains '/'"; a NUL would have been cut by libhdf5.
    @Test(arguments: [("", "it is empty"), (".", "it is \".\""), ("a/b", "it contains '/'"), ("a\u{0}b", "it holds a control character")])
    func unwritableDatasetNamesAreRefusedWithTheirReason(_ name: String, _ reason: String) throws {
        let dir = try TemporaryDirectory()
        #expect {
            try HDF5WeightWriter.write([TensorRecord(name: name, dtype: .f32, shape: [1], payload: .float32([1]))],
                                       metadata: nil, configJSON: nil, to: dir.file("w.h5"))
        } throws: { "\($0)".contains("(\(reason))") && !"\($0)".contains("\u{0}") }
        #expect(!FileManager.default.fileExists(atPath: dir.file("w.h5")))
    }
}
