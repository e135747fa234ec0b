import Foundation
import Synchronization

/// libhdf5 1.10 trusts a file's metadata: one corrupted byte can make it follow a wild pointer and die
/// by SIGSEGV, which no error handling in this process can catch. When enabled (the command-line tool
/// does, with a hidden subcommand of itself), every HDF5 file is first read by a child process that
/// does exactly what the reader will do; only when the child survives does this process open the file.
/// A child that fails cleanly is not reported: the reader then meets the same error and reports it.
public enum HDF5CrashGuard {
    private static let command = Mutex<[String]?>(nil)

    /// How long the child may take to read a file's metadata (milliseconds for any real checkpoint);
    /// libhdf5 can also loop forever on corrupted metadata.
    public static let timeoutSeconds = 30

    /// Called first in the child: SIGALRM ends it after `timeoutSeconds` even when the parent is gone
    /// (killed by a timeout of its own), so a looping libhdf5 never outlives the command.
    public static func limitChild() {
        // The parent's signal mask is inherited through the spawn; SIGALRM must be deliverable here.
        var alarmOnly = sigset_t()
        sigemptyset(&alarmOnly)
        sigaddset(&alarmOnly, SIGALRM)
        sigprocmask(SIG_UNBLOCK, &alarmOnly, nil)
        signal(SIGALRM, SIG_DFL)
        alarm(UInt32(timeoutSeconds))
    }

    /// `command` + [PATH] is run for each HDF5 file; it must read the file as `HDF5Weights(path:)` does
    /// and exit 0 or 1. nil turns the guard off (the child itself, and library users by default).
    public static func enable(command: [String]?) {
        Self.command.withLock { $0 = command }
    }

    static func check(_ path: String) throws(HDF5Error) {
        guard let command = Self.command.withLock({ $0 }), let executable = command.first else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(command.dropFirst()) + [path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        do {
            try process.run()
        } catch {
            throw HDF5Error(path: path, message: "cannot start the process that checks HDF5 files (\(executable)): \(error)")
        }
        let timedOut = HDF5Error(path: path, message: "libhdf5 did not finish reading this file in \(timeoutSeconds) s (corrupted HDF5?)")
        // The child's own alarm normally ends it; this wait is the backstop.
        if finished.wait(timeout: .now() + .seconds(2 * timeoutSeconds)) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            finished.wait()
            throw timedOut
        }
        if process.terminationReason == .uncaughtSignal {
            if process.terminationStatus == SIGALRM { throw timedOut }
            throw HDF5Error(path: path, message: "libhdf5 crashed reading this file (corrupted HDF5?)")
        }
    }
}
