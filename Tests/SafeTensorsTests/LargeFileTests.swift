#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import SafeTensors

/// Opening a checkpoint-sized file reads its header only: no time or memory in proportion to its size.
@Suite struct LargeFileTests {
    static func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    @Test func opensAReleasedSizeFileWithoutReadingIt() throws {
        // 334 [1024, 1024] F32 tensors: 1.40 GB, the size of a released model.safetensors. The data
        // section is a hole (sparse file), so the test costs no disk writes.
        var infos: [TensorInfo] = []
        var offset = 0
        for i in 0..<334 {
            infos.append(TensorInfo(name: "model.layers.\(i).weight", dtype: .f32, shape: [1024, 1024], dataOffsets: offset..<(offset + 4 << 20)))
            offset += 4 << 20
        }
        let header = SafeTensorsHeader.encode(tensors: infos, metadata: ["format": "pt"])
        let dir = try TemporaryDirectory()
        let path = dir.file("large.safetensors")
        try Data(header).write(to: URL(fileURLWithPath: path))
        #expect(truncate(path, off_t(header.count + offset)) == 0)

        let before = Self.residentBytes()
        let clock = ContinuousClock()
        let started = clock.now
        let file = try SafeTensorsFile(path: path)
        let total = file.totalTensorBytes
        let elapsed = clock.now - started
        let grown = Self.residentBytes() - before
        #expect(file.fileSize == 1_400_897_536 + header.count - (1_400_897_536 - offset))
        #expect(total == offset && total > 1_400_000_000)
        #expect(grown < 64 << 20, "resident memory grew by \(grown) bytes")
        // A loose bound: a debug build on a loaded CI machine; the README reports the measured time.
        #expect(elapsed < .seconds(5), "opening took \(elapsed)")
        // A tensor in the middle is reachable in place.
        let view = try file.tensor(named: "model.layers.200.weight")
        #expect(view.isZeroCopyFloat32)
        #expect(try view.withFloat32 { $0[12345] } == 0)
    }
}
