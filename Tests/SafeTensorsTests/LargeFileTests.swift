#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import SafeTensors

/// Opening a checkpoint-sized file reads its header only. Measured by what is resident in the file's own
/// mapping (mincore), not by the process's memory or a clock, so other tests running alongside cannot
/// move the result.
@Suite struct LargeFileTests {
    /// Pages of `bytes` (a file-backed mapping) present in memory.
    static func residentPages(_ bytes: UnsafeRawBufferPointer) -> Int {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = Int(bitPattern: bytes.baseAddress) / page * page
        let end = Int(bitPattern: bytes.baseAddress) + bytes.count
        var vector = [UInt8](repeating: 0, count: (end - start + page - 1) / page)
        guard mincore(UnsafeMutableRawPointer(bitPattern: start), end - start, &vector) == 0 else { return -1 }
        return vector.filter { $0 & 1 == 1 }.count
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

        let file = try SafeTensorsFile(path: path)
        #expect(file.totalTensorBytes == 334 * 4_194_304)
        #expect(file.fileSize == header.count + 1_400_897_536)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let data = UnsafeRawBufferPointer(rebasing: file.region.bytes[(header.count + page)...])
        #expect(Self.residentPages(data) == 0, "opening read tensor data")
        // A tensor in the middle is reachable in place; reading a value of it brings in its pages (and the
        // kernel's read-ahead around them), not a far-away tensor's.
        let view = try file.tensor(named: "model.layers.200.weight")
        #expect(view.isZeroCopyFloat32)
        #expect(try view.withFloat32 { $0[12345] } == 0)
        #expect(view.withUnsafeBytes { Self.residentPages(UnsafeRawBufferPointer(rebasing: $0[(4 * 12345)..<(4 * 12345 + 4)])) } == 1)
        #expect(try file.tensor(named: "model.layers.10.weight").withUnsafeBytes { Self.residentPages($0) } == 0)
    }
}
