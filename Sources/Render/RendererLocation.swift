import Foundation
import Support

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
        if let found = ProjectResource.locate(projectRenderer, containing: RendererConfig.fileName, environmentVariable: environmentVariable,
                                              environment: environment, executable: executable, currentDirectory: currentDirectory) {
            return found
        }
        throw RenderError(
            path: (currentDirectory as NSString).appendingPathComponent(projectRenderer),
            .missingFile(what: "no renderer directory given (--renderer DIR or \(environmentVariable)), and the project's renderers/noto"))
    }
}
