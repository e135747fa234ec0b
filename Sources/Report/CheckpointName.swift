import Foundation

/// How a report row names a checkpoint from its path: the directory's name, except where that name is an
/// artefact of how the checkpoint was stored rather than what it is.
enum CheckpointName {
    static func of(path: String) -> String {
        var components = (path as NSString).pathComponents.filter { $0 != "/" && $0 != "." }
        guard !components.isEmpty else { return path }
        // A weights file given directly: its directory, unless the file itself has a name of its own.
        if let last = components.last, ["safetensors", "h5", "hdf5"].contains((last as NSString).pathExtension.lowercased()) {
            let stem = (last as NSString).deletingPathExtension
            if stem != "model" || components.count == 1 { return stem }
            components.removeLast()
        }
        // A Hugging Face hub snapshot (.../models--ORG--NAME/snapshots/REVISION): the repo id, as it was asked for.
        if components.count >= 3, components[components.count - 2] == "snapshots",
           components[components.count - 3].hasPrefix("models--") {
            return components[components.count - 3].dropFirst("models--".count).replacingOccurrences(of: "--", with: "/")
        }
        // A head written by `eval --save-heads DIR` (DIR/GROUP/seed-S[/fold-K]): "seed-1" alone says nothing,
        // so the name keeps the saving directory and the group.
        var tail = 0
        while tail < components.count, Self.isSeedOrFold(components[components.count - 1 - tail]) { tail += 1 }
        let kept = tail == 0 ? 1 : min(components.count, tail + 2)
        return components.suffix(kept).joined(separator: "/")
    }

    static func isSeedOrFold(_ component: String) -> Bool {
        for prefix in ["seed-", "fold-"] where component.hasPrefix(prefix) {
            let number = component.dropFirst(prefix.count)
            return !number.isEmpty && number.allSatisfy(\.isASCII) && number.allSatisfy(\.isNumber)
        }
        return false
    }
}
