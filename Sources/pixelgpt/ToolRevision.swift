import Foundation

/// The git commit the running executable was built from, for results.json's `git_revision`.
///
/// Read at run time from the checkout around the executable, not stamped in at build time: SwiftPM has no
/// build-time hook short of a build-tool plugin that would run git on every build (and fail without git or
/// outside a checkout). An executable counts as built from a checkout only when it lies in that checkout's
/// `.build/` folder and the checkout is this package (Package.swift and Sources/pixelgpt beside `.build`)
/// and the root of its own git work tree, so that a copy installed elsewhere (say under a home directory
/// kept in git) names no foreign commit: it records none. "-dirty" is appended when tracked files differ
/// from the commit. The one thing this cannot see is a checkout moved to another commit after the build
/// without rebuilding; `swift build` after a checkout, as every documented workflow does, keeps them equal.
enum ToolRevision {
    static func ofRunningExecutable() -> String? {
        guard let executable = Bundle.main.executablePath, let marker = executable.range(of: "/.build/") else { return nil }
        let checkout = String(executable[..<marker.lowerBound])
        let fm = FileManager.default
        guard fm.fileExists(atPath: checkout + "/Package.swift"), fm.fileExists(atPath: checkout + "/Sources/pixelgpt") else { return nil }
        guard let lines = git(["rev-parse", "--show-toplevel", "--verify", "HEAD"], in: checkout)?.split(separator: "\n"), lines.count == 2,
              resolved(String(lines[0])) == resolved(checkout) else { return nil }
        let head = String(lines[1])
        guard head.count == 40, head.allSatisfy(\.isHexDigit) else { return nil }
        guard let changes = git(["status", "--porcelain", "--untracked-files=no"], in: checkout) else { return nil }
        return head + (changes.isEmpty ? "" : "-dirty")
    }

    static func resolved(_ path: String) -> String { URL(fileURLWithPath: path).resolvingSymlinksInPath().standardizedFileURL.path }

    /// git's stdout, or nil when git is missing or fails. GIT_* variables are dropped so that a caller's
    /// GIT_DIR cannot point the question at another repository.
    static func git(_ arguments: [String], in directory: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory] + arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GIT_") }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
