import Foundation

/// A Hugging Face repo id ("baidu/PixelGPT") found in the local hub cache, as transformers finds it with
/// `local_files_only=True`: the cache is $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub; the
/// repo's folder is models--OWNER--NAME, and refs/main names the snapshot (snapshots/REVISION). Nothing is
/// downloaded.
public enum HubCache {
    public static func snapshot(forRepoId id: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let parts = id.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && !$0.hasPrefix(".") }) else { return nil }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let root = environment["HF_HUB_CACHE"] ?? environment["HF_HOME"].map { $0 + "/hub" } ?? home + "/.cache/huggingface/hub"
        let repository = root + "/models--" + parts.joined(separator: "--")
        guard let reference = try? String(contentsOfFile: repository + "/refs/main", encoding: .utf8) else { return nil }
        let revision = reference.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !revision.isEmpty, !revision.contains("/"), !revision.hasPrefix(".") else { return nil }
        let snapshot = repository + "/snapshots/" + revision
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: snapshot, isDirectory: &isDirectory) && isDirectory.boolValue ? snapshot : nil
    }
}
