import ArgumentParser
import Foundation

/// Prints to stderr (logs and progress never go to stdout, which carries data).
func log(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Turns any library error into the one-line message and exit status 1 of the command-line contract.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        log("error: \(error)")
        throw ExitCode.failure
    }
}

/// JSON for stdout: keys sorted so that output is stable across runs and platforms.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
}
