import Foundation
import Testing
import TestSupport

/// docs/architecture.md's graph is the contract: Package.swift declares exactly those dependencies between
/// the project's targets, and no source file imports a project module its target does not list.
@Suite struct ArchitectureTests {
    static let root = TestData.repositoryRoot

    /// The ```graph block: "Target: Dep Dep ...".
    static func documentedGraph() throws -> [String: Set<String>] {
        let text = try String(contentsOfFile: root + "/docs/architecture.md", encoding: .utf8)
        let block = try #require(text.components(separatedBy: "```graph\n").dropFirst().first?.components(separatedBy: "```").first)
        var graph: [String: Set<String>] = [:]
        for line in block.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            let deps = parts[1].contains("(") ? [] : parts[1].split(separator: " ").map(String.init)
            graph[String(parts[0])] = Set(deps)
        }
        return graph
    }

    /// `.target(name: "X", dependencies: [...])` and the executable's list, project modules only.
    static func packageGraph(modules: Set<String>) throws -> [String: Set<String>] {
        let text = try String(contentsOfFile: root + "/Package.swift", encoding: .utf8)
        var graph: [String: Set<String>] = [:]
        let pattern = try NSRegularExpression(pattern: #"\.(?:target|executableTarget)\(\s*name: "(\w+)"(?:,\s*dependencies: \[(.*?)\])?"#, options: [.dotMatchesLineSeparators])
        for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let name = String(text[Range(match.range(at: 1), in: text)!])
            guard modules.contains(name) else { continue }
            let list = Range(match.range(at: 2), in: text).map { String(text[$0]) } ?? ""
            let quoted = try NSRegularExpression(pattern: #"^\s*"(\w+)""#, options: [.anchorsMatchLines])
            let deps = list.split(separator: ",").compactMap { item -> String? in
                let item = String(item)
                return quoted.firstMatch(in: item, range: NSRange(item.startIndex..., in: item)).map { String(item[Range($0.range(at: 1), in: item)!]) }
            }
            graph[name] = Set(deps)
        }
        return graph
    }

    @Test func packageDeclaresTheDocumentedGraph() throws {
        let documented = try Self.documentedGraph()
        #expect(documented.keys.contains("Support") && documented.keys.contains("pixelgpt"))
        let declared = try Self.packageGraph(modules: Set(documented.keys))
        #expect(Set(declared.keys) == Set(documented.keys), "targets in Package.swift vs docs/architecture.md")
        for (target, deps) in documented {
            #expect(declared[target] == deps, "\(target): Package.swift has \(declared[target]?.sorted() ?? []), the doc \(deps.sorted())")
        }
    }

    @Test func sourcesImportOnlyWhatTheirTargetDeclares() throws {
        let documented = try Self.documentedGraph()
        let projectModules = Set(documented.keys).union(["CGEMM", "COpenBLAS", "CHDF5", "CJSONC", "CPangoCairo", "CZlib"])
        var checked = 0
        for (target, deps) in documented {
            let directory = Self.root + "/Sources/" + target
            let files = try FileManager.default.subpathsOfDirectory(atPath: directory).filter { $0.hasSuffix(".swift") }
            for file in files {
                let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
                for line in text.split(separator: "\n") where line.hasPrefix("import ") || line.hasPrefix("@testable import ") || line.hasPrefix("@_exported import ") {
                    let module = String(line.split(separator: " ").last!)
                    guard projectModules.contains(module) else { continue }
                    #expect(deps.contains(module), "Sources/\(target)/\(file) imports \(module), which docs/architecture.md does not give \(target)")
                    checked += 1
                }
            }
        }
        #expect(checked > 50)
    }
}
