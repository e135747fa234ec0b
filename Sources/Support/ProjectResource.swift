import Foundation

/// Finds a directory the project ships (renderers/noto, tasks) when the user names none: an environment
/// variable first, then the path relative to any folder above the executable (a build folder inside the
/// checkout), then relative to the current directory. `marker` is a file the directory must contain.
public enum ProjectResource {
    public static func locate(
        _ relativePath: String, containing marker: String, environmentVariable: String,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executable: String? = Bundle.main.executablePath,
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) -> String? {
        if let path = environment[environmentVariable], !path.isEmpty { return path }
        var candidates: [String] = []
        if let executable {
            var dir = ((executable as NSString).resolvingSymlinksInPath as NSString).deletingLastPathComponent
            while dir != "/" && !dir.isEmpty {
                candidates.append((dir as NSString).appendingPathComponent(relativePath))
                dir = (dir as NSString).deletingLastPathComponent
            }
        }
        candidates.append((currentDirectory as NSString).appendingPathComponent(relativePath))
        return candidates.first { FileManager.default.fileExists(atPath: ($0 as NSString).appendingPathComponent(marker)) }
    }
}
