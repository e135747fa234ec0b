import Foundation
import TestSupport
import Testing
@testable import Eval

@Suite struct SampleLogTests {
    @Test func resumesAfterTheLastCompleteLine() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("samples_rte.jsonl")
        do {
            let log = try SampleLog(path: path, resume: false)
            try log.append([SampleRecord(index: 0, label: 1, prediction: 1, logits: [0.1, 0.9]),
                            SampleRecord(index: 1, label: 0, prediction: 1, logits: [0.4, 0.6])])
        }
        // An interruption mid-write leaves a torn line.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"index\":2,\"lab".utf8))
        try handle.close()

        let resumed = try SampleLog(path: path, resume: true)
        #expect(resumed.orderedRecords.map(\.index) == [0, 1])
        try resumed.append([SampleRecord(index: 1, label: 0, prediction: 0, logits: [1, 0]),  // already done: kept as it was
                            SampleRecord(index: 2, label: 1, prediction: 0, logits: [0.7, 0.3])])
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(try SampleLog(path: path, resume: true).records[1]?.prediction == 1)

        let fresh = try SampleLog(path: path, resume: false)
        #expect(fresh.records.isEmpty)
        #expect(try String(contentsOfFile: path, encoding: .utf8).isEmpty)
    }

    @Test func refusesAForeignFileOnResume() throws {
        let dir = try TemporaryDirectory()
        try "not a record\n".write(toFile: dir.file("s.jsonl"), atomically: true, encoding: .utf8)
        #expect { try SampleLog(path: dir.file("s.jsonl"), resume: true) } throws: { "\($0)".contains("line 1") }
    }
}

@Suite struct FeatureCacheTests {
    @Test func storesAndReloadsOnlyForTheSameKey() throws {
        let dir = try TemporaryDirectory()
        let cache = try FeatureCache(directory: dir.file("features"))
        let key = FeatureCache.Key(checkpoint: "abc", task: "rte", taskVersion: 1, split: "validation", modality: "pixel",
                                   sequenceLength: 768, renderer: "noto", tokenizer: nil, pooling: "upstream", limit: 10)
        #expect(try cache.load(key) == nil)
        let entry = FeatureCache.Entry(rowIndices: [0, 3, 7], features: (0..<12).map(Float.init), featureSize: 4)
        try cache.store(entry, for: key)
        let loaded = try #require(try cache.load(key))
        #expect(loaded.rowIndices == [0, 3, 7] && loaded.features == entry.features && loaded.featureSize == 4)
        var other = key
        other.modality = "text"
        #expect(try cache.load(other) == nil)
        #expect(cache.path(for: other) != cache.path(for: key))
    }
}
