import Foundation
import Support
import Testing
import TestSupport

@Suite struct StagedOutputTests {
    struct Refused: Error {}

    static func entries(_ dir: TemporaryDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    @Test func aFileIsReplacedOnlyWhenComplete() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("out.json")
        try AtomicFile.write(Array("old".utf8), to: path)
        #expect(throws: Refused.self) {
            try AtomicFile.write(to: path, failure: { _ in Refused() }) { (sink: inout ByteSink) throws(Refused) in
                sink.append(Array("half".utf8))
                throw Refused()
            }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        #expect(try Self.entries(dir) == ["out.json"], "no temporary left behind")
        try AtomicFile.write(Array("new".utf8), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new")
        #expect(try Self.entries(dir) == ["out.json"])
    }

    @Test func aDirectoryIsStagedBesideItsDestination() throws {
        let dir = try TemporaryDirectory()
        let destination = dir.file("checkpoint")
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: false)  // empty: replaced
        try StagedOutput.commit(destination) { staging in
            #expect((staging as NSString).lastPathComponent.hasPrefix(".checkpoint.tmp-"))
            #expect((staging as NSString).deletingLastPathComponent == dir.path)
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false)
            try Data("{}".utf8).write(to: URL(fileURLWithPath: staging + "/config.json"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: destination) == ["config.json"])
        #expect(try Self.entries(dir) == ["checkpoint"])
    }

    @Test func aFailedDirectoryLeavesNothing() throws {
        let dir = try TemporaryDirectory()
        #expect(throws: Refused.self) {
            try StagedOutput.commit(dir.file("checkpoint")) { staging in
                try FileManager.default.createDirectory(atPath: staging + "/nested", withIntermediateDirectories: true)
                throw Refused()
            }
        }
        #expect(try Self.entries(dir).isEmpty)
    }

    @Test func freeSpaceIsCheckedWithTheNumbers() throws {
        let dir = try TemporaryDirectory()
        #expect { try StagedOutput.requireFreeSpace(Int.max / 2, at: dir.file("x")) } throws: { "\($0)".contains("free") }
    }
}
