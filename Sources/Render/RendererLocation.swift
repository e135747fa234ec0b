import Foundation

/// Finds the renderer directory when none is given: $PIXELGPT_RENDERER, else the project's renderers/noto found
/// above the executable (a build folder inside the checkout), else renderers/noto under the current directory.
public enum RendererLocation {
    public static let environmentVariable = "PIXELGPT_RENDERER"
    public static let projectRenderer = "renderers/noto"

    public static func defaultDirectory(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executable: String? = Bundle.main.executablePath,
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) throws(RenderError) -> String {
        if let path = environment[environmentVariable], !path.isEmpty { return path }
        var candidates: [String] = []
        if let executable {
            var dir = ((executable as NSString).resolvingSymlinksInPath as NSString).deletingLastPathComponent
            while dir != "/" && !dir.isEmpty {
                candidates.append((dir as NSString).appendingPathComponent(projectRenderer))
                dir = (dir as NSString).deletingLastPathComponent
            }
        }
        candidates.append((currentDirectory as NSString).appendingPathComponent(projectRenderer))
        for candidate in candidates
        where FileManager.default.fileExists(atPath: (candidate as NSString).appendingPathComponent(RendererConfig.fileName)) {
            return candidate
        }
        throw RenderError(
            path: (currentDirectory as NSString).appendingPathComponent(projectRenderer),
            .missingFile(what: "no renderer directory given (--renderer DIR or \(environmentVariable)), and the project's renderers/noto"))
    }
}
