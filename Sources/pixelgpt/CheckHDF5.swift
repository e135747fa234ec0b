import ArgumentParser
import Checkpoints
import Foundation

/// The child of HDF5CrashGuard: reads one HDF5 file's metadata as every command does, so that a file
/// that crashes libhdf5 crashes this process instead of the command. Not listed in the help.
struct CheckHDF5: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-hdf5-in-child", shouldDisplay: false)

    @Argument var path: String

    func run() throws {
        HDF5CrashGuard.limitChild()
        do {
            _ = try HDF5Weights(path: path)
        } catch {
            throw ExitCode.failure
        }
    }
}
