import ArgumentParser
import Foundation
import SafeTensors

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
        // One line, whatever names from a file the message quotes: control characters (a newline, an escape
        // sequence) are written as \u{XX}.
        log("error: \(TerminalText.escaped("\(error)"))")
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

/// Refuses an output path that is one of the command's own input files: writing aside and renaming
/// would otherwise replace a checkpoint's weights or the inputs with the outputs, and exit 0. Paths are
/// compared after resolving symlinks (realpath), and by device and inode, which also catches hard links.
func refuseOverwriting(_ output: String, option: String, inputs: [(role: String, path: String)]) throws {
    let target = resolvedPath(output)
    let targetIdentity = fileIdentity(output)
    for input in inputs {
        let sameFile = targetIdentity != nil && targetIdentity == fileIdentity(input.path)
        if sameFile || resolvedPath(input.path) == target {
            throw ValidationError("\(option) \(output) is the same file as \(input.role) \(input.path); write the output elsewhere")
        }
    }
}

/// realpath(3) of `path`; for a path that does not exist yet, its directory's realpath and its last component.
private func resolvedPath(_ path: String) -> String {
    if let resolved = realpath(path, nil) {
        defer { free(resolved) }
        return String(cString: resolved)
    }
    let directory = (path as NSString).deletingLastPathComponent
    let parent = directory.isEmpty ? "." : directory
    guard let resolved = realpath(parent, nil) else { return (path as NSString).standardizingPath }
    defer { free(resolved) }
    return (String(cString: resolved) as NSString).appendingPathComponent((path as NSString).lastPathComponent)
}

/// Device and inode of the file `path` leads to, nil when there is none.
private func fileIdentity(_ path: String) -> [UInt64]? {
    var status = stat()
    guard stat(path, &status) == 0 else { return nil }
    return [UInt64(status.st_dev), UInt64(status.st_ino)]
}

/// ArgumentParser's `main`, except for how a usage error (unknown option, missing or bad value, an option
/// the command refuses) is printed: one `error:` line and one hint line on stderr, like the runtime errors'
/// single line, where ArgumentParser prints the option's help and the whole usage. The exit status is
/// ArgumentParser's (64, EX_USAGE, for usage errors); help and --version print as before.
func runCommandLine(_ root: PixelGPT.Type) -> Never {
    do {
        var command = try root.parseAsRoot(nil)
        try command.run()
        exit(0)
    } catch {
        let code = root.exitCode(for: error)
        if code == .success || error is ExitCode { root.exit(withError: error) }
        let message = root.message(for: error)
        let line = message.split(separator: "\n").first.map(String.init) ?? message
        log("error: \(TerminalText.escaped(line.isEmpty ? "\(error)" : line))")
        if code.rawValue == 64 { log("hint: see `pixelgpt help\(commandPath(root).map { " " + $0 }.joined())` for the options") }
        exit(code.rawValue)
    }
}

/// The subcommand names at the start of this process's arguments (["export", "glue"]), for the hint.
private func commandPath(_ root: any ParsableCommand.Type) -> [String] {
    var path: [String] = []
    var command = root
    for argument in CommandLine.arguments.dropFirst() {
        guard let next = command.configuration.subcommands.first(where: { $0._commandName == argument }) else { break }
        path.append(argument)
        command = next
    }
    return path
}
