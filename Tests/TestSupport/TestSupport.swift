import Foundation

/// A fresh temporary directory, removed with everything in it when the value is released.
public final class TemporaryDirectory {
    public let path: String

    public init() throws {
        path = NSTemporaryDirectory() + "pixelgpt-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// What a finished child process printed.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: Data
    public let stderr: String
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs `executable` with `arguments` to completion (in `currentDirectory` when given), capturing both streams.
public func runProcess(_ executable: URL, _ arguments: [String], currentDirectory: String? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // stderr is drained on its own thread so that a child filling one pipe cannot block on the other.
    final class Collected: @unchecked Sendable { var data = Data() }
    let errors = Collected()
    let reader = Thread { errors.data = err.fileHandleForReading.readDataToEndOfFile() }
    reader.start()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !reader.isFinished { usleep(1000) }
    return ProcessResult(status: process.terminationStatus, stdout: data, stderr: String(decoding: errors.data, as: UTF8.self))
}

/// The Python reference implementations (safetensors, h5py, transformers, sentencepiece, hashlib), when
/// installed. In CI (PIXELGPT_REQUIRE_PYTHON=1) their absence fails the test that needs them instead of
/// skipping it.
public enum PythonReference {
    /// The repository's root, for scripts/.
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    public static func isAvailable(_ modules: String) -> Bool {
        (try? run(["-c", "import \(modules)"])) != nil
    }

    public static var isRequired: Bool { ProcessInfo.processInfo.environment["PIXELGPT_REQUIRE_PYTHON"] == "1" }

    /// For `.enabled(if:)`: a test that needs `modules` runs when they import, and also when CI requires
    /// Python, so that their absence there fails the test instead of skipping it.
    public static func isAvailableOrRequired(_ modules: String) -> Bool { isRequired || isAvailable(modules) }

    /// python3 with `arguments`; its stdout, or an error carrying its stderr on a non-zero exit.
    public static func run(_ arguments: [String]) throws -> Data {
        let result = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), ["python3"] + arguments)
        guard result.status == 0 else { throw Failure(message: result.stderr) }
        return result.stdout
    }

    public struct Failure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
        public init(message: String) { self.message = message }
    }
}

extension Array where Element == UInt8 {
    public var hex: String { map { String(format: "%02x", $0) }.joined() }
}

/// Where tests find what the repository does not ship: the evaluation data and tokenizer ($PIXELGPT_DATA,
/// else ../shared/data beside the checkout) and the golden outputs ($PIXELGPT_GOLDEN, else the data's
/// sibling golden/). Tests that need them use `.enabled(if: TestData.hasData)`: skipped, and reported as
/// skipped, only when no data was given; when PIXELGPT_DATA is set (CI) they run and fail if it is incomplete.
public enum TestData {
    public static let repositoryRoot = PythonReference.repositoryRoot
    static let environment = ProcessInfo.processInfo.environment

    /// The data directory was named, so anything missing from it is a failure, not a skip.
    public static var isRequired: Bool { !(environment["PIXELGPT_DATA"] ?? "").isEmpty }

    public static let directory: String? = {
        if let data = environment["PIXELGPT_DATA"], !data.isEmpty {
            return ((data.hasPrefix("/") ? data : repositoryRoot + "/" + data) as NSString).standardizingPath
        }
        let beside = ((repositoryRoot + "/../shared/data") as NSString).standardizingPath
        return FileManager.default.fileExists(atPath: beside + "/xnli") ? beside : nil
    }()

    /// For `.enabled(if:)`.
    public static var hasData: Bool { directory != nil || isRequired }

    /// `relative` inside the data directory (whether or not it exists: a test that runs expects it).
    public static func path(_ relative: String) -> String { (directory ?? "/nonexistent-PIXELGPT_DATA") + "/" + relative }

    /// The Llama-2 tokenizer.model of the data directory.
    public static var llamaTokenizer: String { path("tokenizer/llama2/tokenizer.model") }

    /// The golden outputs of the original implementations.
    public static let goldenDirectory: String? = {
        if let golden = environment["PIXELGPT_GOLDEN"], !golden.isEmpty { return golden }
        return directory.map { (($0 + "/../golden") as NSString).standardizingPath }
    }()
}

/// The built `pixelgpt`, in the products directory beside the test bundle (`swift test` builds it, since
/// a test target depends on it).
public enum BuiltTool {
    public static let pixelgpt: URL = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("pixelgpt")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue { return candidate }
            dir.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: "/nonexistent/pixelgpt")
    }()

    public static func run(_ arguments: [String], currentDirectory: String? = nil) throws -> ProcessResult {
        try runProcess(pixelgpt, arguments, currentDirectory: currentDirectory)
    }
}
