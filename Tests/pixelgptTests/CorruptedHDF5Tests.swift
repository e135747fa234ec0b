import Foundation
import TestSupport
import Testing

/// A corrupted byte that makes libhdf5 1.10 die by SIGSEGV (the "Hostile inputs" issue, item 4): the
/// tool reads each HDF5 file in a child first and reports the crash as a one-line error.
@Suite struct CorruptedHDF5Tests {
    /// A tiny checkpoint converted to HDF5 with one byte changed.
    static func corrupted(_ offset: Int, _ value: UInt8, in dir: String) throws -> String {
        #expect(try CommandLineTests.run(["init", "--preset", "tiny", "--seed", "1", dir + "/ckpt"]).status == 0)
        let converted = try CommandLineTests.run(["convert", dir + "/ckpt", dir + "/h5", "--format", "hdf5"])
        #expect(converted.status == 0, "\(converted.stderr)")
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/h5/model.h5")))
        bytes[offset] = value
        let corrupted = dir + "/corrupted.h5"
        try Data(bytes).write(to: URL(fileURLWithPath: corrupted))
        return corrupted
    }

    @Test(arguments: [893, 894])
    func libhdf5CrashIsAOneLineError(_ offset: Int) throws {
        let temporary = try TemporaryDirectory()
        let dir = temporary.path
        // Found by scripts/fuzz_hdf5.py: a pointer in the root group's metadata.
        let corrupted = try Self.corrupted(offset, 236, in: dir)
        for arguments in [["inspect", corrupted], ["verify", corrupted, dir + "/ckpt/model.safetensors"],
                          ["convert", corrupted, dir + "/out.safetensors"]] {
            let result = try CommandLineTests.run(arguments)
            #expect(result.status == 1, "\(arguments[0]): \(result.status) \(result.stderr)")
            #expect(result.stderr == "error: \(corrupted): libhdf5 crashed reading this file (corrupted HDF5?)\n", "\(arguments[0])")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.safetensors"))
    }

    /// Byte 3632 = 164 makes libhdf5 loop forever reading the metadata (scripts/fuzz_hdf5.py, seed 1).
    @Test func libhdf5LoopIsAOneLineErrorWithinTheLimit() throws {
        let temporary = try TemporaryDirectory()
        let corrupted = try Self.corrupted(3632, 164, in: temporary.path)
        // No wall-clock assertion (a loaded machine could break it): the child's alarm or the parent's
        // backstop, either ends in this one line.
        let result = try CommandLineTests.run(["inspect", corrupted])
        #expect(result.status == 1)
        #expect(result.stderr == "error: \(corrupted): libhdf5 did not finish reading this file in 30 s (corrupted HDF5?)\n")
    }
}
